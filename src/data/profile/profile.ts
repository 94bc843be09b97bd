/** profileSources: one streaming pass over one or more sources profiled as a single table. */
import type { Readable } from 'node:stream';
import { invalid } from '../../platform/errors.js';
import { resolveOptions, type ProfileOptions } from './column.js';
import { readCsv, readJsonArray, readJsonl, readParquet } from './readers.js';
import { TableBuilder } from './table.js';
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
    let r: { rows: number; bytes: number };
    switch (format) {
      case 'csv':
        r = await readCsv(src, table, isTsv(src.name) ? '\t' : ',');
        break;
      case 'jsonl':
        r = await readJsonl(src, table);
        break;
      case 'json':
        r = await readJsonArray(src, table);
        break;
      case 'parquet':
        r = await readParquet(src, table);
        break;
    }
    summaries.push({ name: src.name, rows: r.rows, bytes: r.bytes });
  }
  return { format, rows: table.rows, sources: summaries, columns: table.columns.map((c) => c.finish()) };
}
