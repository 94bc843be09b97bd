/**
 * Which files are data files, by extension. No dependencies: the SDK picks the files of a folder with it, and the
 * profiler chooses its reader with it.
 */

export const DATA_FORMATS = ['csv', 'jsonl', 'json', 'parquet'] as const;
export type DataFormat = (typeof DATA_FORMATS)[number];

const EXTENSIONS: Record<string, DataFormat> = {
  csv: 'csv',
  tsv: 'csv',
  jsonl: 'jsonl',
  ndjson: 'jsonl',
  json: 'json',
  parquet: 'parquet',
};

/** The format of a file from its extension (case-insensitive); undefined for anything else. */
export function formatFromName(fileName: string): DataFormat | undefined {
  const m = /\.([A-Za-z0-9]+)$/.exec(fileName);
  return m ? EXTENSIONS[m[1]!.toLowerCase()] : undefined;
}
