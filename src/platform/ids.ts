import { randomBytes, randomUUID } from 'node:crypto';

/** 32 lowercase hex characters, like MLflow run ids. */
export function newRunId(): string {
  return randomUUID().replace(/-/g, '');
}

export function newId(): string {
  return randomBytes(16).toString('hex');
}

let lastMs = 0;
let seq = 0;

/**
 * A UUID version 7 (RFC 9562): 48 bits of milliseconds, then random bits, with a counter in the first random bits so
 * ids made in one millisecond by this process still sort in creation order. Ids that sort by time keep an index on
 * them appending at its end (the payload log's request ids), where random ones land all over it.
 */
export function newTimeOrderedId(now = Date.now()): string {
  if (now === lastMs) seq = (seq + 1) & 0xfff;
  else {
    lastMs = now;
    seq = 0;
  }
  const b = randomBytes(16);
  b.writeUIntBE(now, 0, 6);
  b[6] = 0x70 | (seq >> 8);
  b[7] = seq & 0xff;
  b[8] = 0x80 | (b[8]! & 0x3f);
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
