import { Readable } from 'node:stream';
import type { ProfileSource } from './profile.js';
import type { ColumnProfile, DataFormat, DatasetProfile } from './types.js';

/** A source over in-memory bytes, delivered in chunks of `chunk` bytes (to cross chunk boundaries). */
export function memSource(name: string, format: DataFormat, data: string | Uint8Array, chunk = 7): ProfileSource {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
  return {
    name,
    format,
    size: bytes.length,
    open: () => {
      const parts: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
      return Readable.from(parts);
    },
  };
}

export function col(p: DatasetProfile, name: string): ColumnProfile {
  const c = p.columns.find((x) => x.name === name);
  if (!c) throw new Error(`no column ${name}`);
  return c;
}
