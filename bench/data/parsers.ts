// Raw CSV parsing throughput of csv-parse and papaparse over the same file, streaming, no profiling work.
import { createReadStream } from 'node:fs';
import { parse as csvParse } from 'csv-parse';
import Papa from 'papaparse';

export interface ParserTiming {
  parser: string;
  rows: number;
  seconds: number;
}

export async function timeCsvParse(path: string): Promise<ParserTiming> {
  const t0 = performance.now();
  let rows = 0;
  const parser = createReadStream(path).pipe(csvParse({ relax_column_count: false }));
  for await (const rec of parser) {
    if ((rec as string[]).length > 0) rows++;
  }
  return { parser: 'csv-parse', rows, seconds: (performance.now() - t0) / 1000 };
}

export async function timePapaparse(path: string): Promise<ParserTiming> {
  const t0 = performance.now();
  let rows = 0;
  await new Promise<void>((resolve, reject) => {
    Papa.parse<string[]>(createReadStream(path, { encoding: 'utf8' }), {
      header: false,
      chunk: (res) => {
        rows += res.data.length;
      },
      complete: () => resolve(),
      error: (err: Error) => reject(err),
    });
  });
  return { parser: 'papaparse', rows, seconds: (performance.now() - t0) / 1000 };
}
