/** Streaming readers: each pushes the rows of one source into a RowSink (a TableBuilder when profiling) and returns its row count. */
import { Transform, type Readable } from 'node:stream';
import Papa from 'papaparse';
import { parquetMetadata, parquetRead, parquetSchema } from 'hyparquet';
import { invalid, isKilnError, KilnError } from '../../platform/errors.js';
import type { RowSink } from './table.js';
import type { ProfileSource } from './profile.js';

type AnyStream = NodeJS.ReadableStream | Readable;

/** Wraps a source stream so the bytes read can be counted; text mode when `encoding` is set. */
export function openCounted(src: ProfileSource, encoding?: BufferEncoding): { stream: Transform; bytes: () => number } {
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer | string, _enc, cb) {
      bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      cb(null, chunk);
    },
  });
  const input = src.open() as AnyStream;
  input.on('error', (e: Error) => counter.destroy(e));
  input.pipe(counter);
  if (encoding) counter.setEncoding(encoding);
  return { stream: counter, bytes: () => bytes };
}

/**
 * Finds where record `target` (0-based, header = 0) starts, and whether the text ends inside a quoted field
 * (with the line the last opening quote is on). Used only to word errors, so it re-reads the source.
 */
async function locateCsv(src: ProfileSource, target: number): Promise<{ line: number | null; openQuoteLine: number | null }> {
  const { stream } = openCounted(src, 'utf8');
  let line = 1;
  let record = 0;
  let inQuotes = false;
  let quoteLine = 0;
  let found: number | null = target === 0 ? 1 : null;
  for await (const chunk of stream) {
    const s = chunk as string;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 34) {
        inQuotes = !inQuotes;
        if (inQuotes) quoteLine = line;
      } else if (c === 10) {
        line++;
        if (!inQuotes) {
          record++;
          if (record === target && found === null) found = line;
        }
      }
    }
  }
  return { line: found, openQuoteLine: inQuotes ? quoteLine : null };
}

type CsvFailure = { kind: 'ragged'; record: number; fields: number; expected: number } | { kind: 'parse'; code: string; message: string; record: number };

export async function readCsv(src: ProfileSource, table: RowSink, delimiter: string): Promise<{ rows: number; bytes: number }> {
  const { stream, bytes } = openCounted(src, 'utf8');
  let header: string[] | null = null;
  let map: number[] | null = null;
  let identity = false;
  let records = 0; // papaparse rows seen, header included
  let rows = 0;
  let pendingBlank = 0;
  let failure: CsvFailure | null = null;
  let thrown: unknown = null;
  await new Promise<void>((resolve, reject) => {
    Papa.parse<string[]>(stream, {
      delimiter,
      header: false,
      skipEmptyLines: false,
      chunk: (res, parser) => {
        if (failure || thrown) return;
        try {
          const data = res.data;
          const err = res.errors[0];
          const limit = err && typeof err.row === 'number' ? Math.min(err.row, data.length) : data.length;
          for (let r = 0; r < limit; r++) {
            const row = data[r]!;
            if (header === null) {
              header = row.map((h, i) => (i === 0 ? h.replace(/^\uFEFF/, '') : h));
              if (header.length === 1 && header[0] === '') header = null;
              else {
                header = header.map((h, i) => (h === '' ? `column_${i + 1}` : h));
                map = table.setHeader(header, src.name);
                identity = map.every((c, i) => c === i);
              }
              records++;
              continue;
            }
            if (row.length === 1 && row[0] === '') {
              pendingBlank++;
              records++;
              continue;
            }
            if (row.length !== header.length) {
              failure = { kind: 'ragged', record: records, fields: row.length, expected: header.length };
              parser.abort();
              return;
            }
            if (pendingBlank > 0 && header.length === 1) {
              rows += pendingBlank;
              for (; pendingBlank > 0; pendingBlank--) table.addTextRow([''], map);
            }
            pendingBlank = 0;
            table.addTextRow(row, identity ? null : map);
            rows++;
            records++;
          }
          if (err) {
            failure = { kind: 'parse', code: err.code, message: err.message, record: records };
            parser.abort();
          }
        } catch (e) {
          thrown = e;
          parser.abort();
        }
      },
      complete: () => resolve(),
      error: (e: Error) => reject(e),
    });
  });
  if (thrown) throw thrown;
  if (failure) throw await csvError(src, failure);
  if (header === null) throw invalid(`${src.name}: empty file (no header row)`, { source: src.name });
  return { rows, bytes: bytes() };
}

async function csvError(src: ProfileSource, f: CsvFailure): Promise<KilnError> {
  const where = await locateCsv(src, f.record);
  if (f.kind === 'ragged') {
    const at = where.line !== null ? `line ${where.line}` : `record ${f.record + 1}`;
    return invalid(`${src.name}: ${at} has ${f.fields} field${f.fields === 1 ? '' : 's'}, the header has ${f.expected}`, {
      source: src.name,
      line: where.line,
      fields: f.fields,
      expected_fields: f.expected,
    });
  }
  if (f.code === 'MissingQuotes' || where.openQuoteLine !== null) {
    const line = where.openQuoteLine ?? where.line;
    return invalid(`${src.name}: unterminated quoted field starting on line ${line ?? '?'}`, { source: src.name, line });
  }
  return invalid(`${src.name}: malformed CSV near line ${where.line ?? '?'}: ${f.message}`, { source: src.name, line: where.line, code: f.code });
}

function asObject(v: unknown, src: ProfileSource, where: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    const got = v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
    throw invalid(`${src.name}: ${where}: expected a JSON object, got ${got}`, { source: src.name });
  }
  return v as Record<string, unknown>;
}

export async function readJsonl(src: ProfileSource, table: RowSink): Promise<{ rows: number; bytes: number }> {
  const { stream, bytes } = openCounted(src, 'utf8');
  let rest = '';
  let line = 0;
  let rows = 0;
  const handle = (text: string) => {
    line++;
    if (text.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      throw invalid(`${src.name}: line ${line}: invalid JSON (${(e as Error).message})`, { source: src.name, line });
    }
    table.addObject(asObject(v, src, `line ${line}`));
    rows++;
  };
  for await (const chunk of stream) {
    const s = rest + (chunk as string);
    let start = 0;
    let nl: number;
    while ((nl = s.indexOf('\n', start)) !== -1) {
      handle(s.slice(start, nl));
      start = nl + 1;
    }
    rest = s.slice(start);
  }
  if (rest !== '') handle(rest);
  if (bytes() === 0) throw invalid(`${src.name}: empty file`, { source: src.name });
  return { rows, bytes: bytes() };
}

/**
 * A top-level JSON array of objects, read element by element: a small scanner cuts each element out of the
 * text and JSON.parse reads it, so memory is bounded by the largest element, not the file.
 */
export async function readJsonArray(src: ProfileSource, table: RowSink): Promise<{ rows: number; bytes: number }> {
  const { stream, bytes } = openCounted(src, 'utf8');
  // phases: 0 before '[', 1 expecting an element (or ']'), 2 inside an element, 3 after an element, 4 after ']'
  let phase = 0;
  let line = 1;
  let depth = 0;
  let inStr = false;
  let esc = false;
  let parts: string[] = [];
  let elemLine = 1;
  let rows = 0;
  const fail = (what: string, at = line) => invalid(`${src.name}: line ${at}: ${what}`, { source: src.name, line: at });
  for await (const chunk of stream) {
    const s = chunk as string;
    let start = phase === 2 ? 0 : -1;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 10) line++;
      if (phase === 2) {
        if (inStr) {
          if (esc) esc = false;
          else if (c === 92) esc = true;
          else if (c === 34) inStr = false;
        } else if (c === 34) inStr = true;
        else if (c === 123 || c === 91) depth++;
        else if (c === 125 || c === 93) {
          if (--depth === 0) {
            parts.push(s.slice(start, i + 1));
            const text = parts.join('');
            parts = [];
            let v: unknown;
            try {
              v = JSON.parse(text);
            } catch (e) {
              throw fail(`invalid JSON in element ${rows + 1} (${(e as Error).message})`, elemLine);
            }
            table.addObject(asObject(v, src, `element ${rows + 1}`));
            rows++;
            phase = 3;
            start = -1;
          }
        }
        continue;
      }
      if (c === 32 || c === 10 || c === 13 || c === 9 || c === 0xfeff) continue;
      if (phase === 0) {
        if (c !== 91) throw fail(`expected a top-level JSON array of objects`);
        phase = 1;
      } else if (phase === 1 || phase === 3) {
        if (c === 93) phase = 4;
        else if (phase === 3 && c === 44) phase = 1;
        else if (phase === 1 && (c === 123 || c === 91)) {
          phase = 2;
          depth = 1;
          start = i;
          elemLine = line;
        } else if (phase === 1) throw fail(`element ${rows + 1}: expected a JSON object`);
        else throw fail(`expected ',' or ']' after element ${rows}`);
      } else throw fail(`unexpected text after the end of the top-level array`);
    }
    if (phase === 2) parts.push(s.slice(start));
  }
  if (bytes() === 0) throw invalid(`${src.name}: empty file`, { source: src.name });
  if (phase !== 4) throw fail(`truncated JSON: the top-level array is not closed`);
  return { rows, bytes: bytes() };
}

/**
 * Parquet via hyparquet. The file is read fully into memory (hyparquet reads from a buffer), then decoded one
 * row group at a time so only one row group's rows are materialised at once.
 */
export async function readParquet(src: ProfileSource, table: RowSink): Promise<{ rows: number; bytes: number }> {
  const { stream, bytes } = openCounted(src);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  const buf = Buffer.concat(chunks);
  if (buf.length === 0) throw invalid(`${src.name}: empty file`, { source: src.name });
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length) as ArrayBuffer;
  const bad = (e: unknown) =>
    isKilnError(e) ? e : invalid(`${src.name}: not a readable parquet file (${(e as Error).message})`, { source: src.name });
  let metadata;
  let names: string[];
  let floats: boolean[];
  try {
    metadata = parquetMetadata(ab);
    const children = parquetSchema(metadata).children;
    names = children.map((c) => c.element.name);
    floats = children.map((c) => c.element.type === 'FLOAT' || c.element.type === 'DOUBLE');
  } catch (e) {
    throw bad(e);
  }
  const map = table.setHeader(names, src.name);
  floats.forEach((f, i) => f && table.markFloat(map[i]!));
  let rowStart = 0;
  let rows = 0;
  for (const rg of metadata.row_groups) {
    const rowEnd = rowStart + Number(rg.num_rows);
    try {
      await parquetRead({
        file: ab,
        metadata,
        rowStart,
        rowEnd,
        rowFormat: 'array',
        onComplete: (data: unknown[][]) => {
          for (const row of data) table.addValueRow(row, map);
          rows += data.length;
        },
      });
    } catch (e) {
      throw bad(e);
    }
    rowStart = rowEnd;
  }
  return { rows, bytes: bytes() };
}
