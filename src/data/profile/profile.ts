/** profileSources: one streaming pass over one or more sources profiled as a single table. */
import type { Readable } from 'node:stream';
import { invalid } from '../../platform/errors.js';
import { resolveOptions, type ProfileOptions } from './column.js';
import { readCsv, readJsonArray, readJsonl, readParquet } from './readers.js';
import { TableBuilder, type RowSink } from './table.js';
import type { DataFormat, DatasetProfile, SourceSummary } from './types.js';

export { formatFromName } from '../formats.js';

export interface ProfileSource {
  /** Shown in error messages (usually the file's path relative to the dataset). */
  name: string;
  format: DataFormat;
  open(): NodeJS.ReadableStream | Readable;
  size?: number;
}

const isTsv = (name: string) => /\.tsv$/i.test(name);

export async function profileSources(sources: ProfileSource[], opts?: ProfileOptions): Promise<DatasetProfile> {
  if (sources.length === 0) throw invalid('no files to profile');
  const format = sources[0]!.format;
  const other = sources.find((s) => s.format !== format);
  if (other) throw invalid(`${other.name}: format ${other.format} differs from ${sources[0]!.name} (${format}); a dataset has one format`, { source: other.name });
  const table = new TableBuilder(resolveOptions(opts));
  const summaries: SourceSummary[] = [];
  for (const src of sources) {
    const r = await readSource(src, table);
    summaries.push({ name: src.name, rows: r.rows, bytes: r.bytes });
  }
  return { format, rows: table.rows, sources: summaries, columns: table.columns.map((c) => c.finish()) };
}

/** Streams the rows of one source into `sink` with the reader of its format; returns its rows and bytes. */
export function readSource(src: ProfileSource, sink: RowSink): Promise<{ rows: number; bytes: number }> {
  switch (src.format) {
    case 'csv':
      return readCsv(src, sink, isTsv(src.name) ? '\t' : ',');
    case 'jsonl':
      return readJsonl(src, sink);
    case 'json':
      return readJsonArray(src, sink);
    case 'parquet':
      return readParquet(src, sink);
  }
}
