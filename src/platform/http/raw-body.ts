import { Transform, type Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { KilnError } from '../errors.js';

/** In this (encapsulated) plugin every request body arrives as a raw stream, whatever its Content-Type. */
export function acceptRawBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
}

/** The request body as a stream that fails with REQUEST_TOO_LARGE past `limit` bytes. */
export function limitedBody(req: FastifyRequest, limit: number): { body: Readable; declaredLength?: number } {
  const header = req.headers['content-length'];
  const declared = header === undefined ? undefined : Number(header);
  if (declared !== undefined && (!Number.isFinite(declared) || declared < 0)) throw new KilnError('MALFORMED_REQUEST', 'Invalid Content-Length header.');
  if (declared !== undefined && declared > limit) throw new KilnError('REQUEST_TOO_LARGE', `Upload of ${declared} bytes exceeds the limit of ${limit} bytes.`);
  const source = (req.body as Readable | undefined) ?? req.raw;
  let seen = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      seen += chunk.length;
      if (seen > limit) cb(new KilnError('REQUEST_TOO_LARGE', `Upload exceeds the limit of ${limit} bytes.`));
      else cb(null, chunk);
    },
  });
  source.on('error', (e) => counter.destroy(e));
  source.pipe(counter);
  return { body: counter, declaredLength: declared };
}

const TYPES: Record<string, string> = {
  json: 'application/json',
  txt: 'text/plain; charset=utf-8',
  log: 'text/plain; charset=utf-8',
  md: 'text/plain; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  tsv: 'text/tab-separated-values; charset=utf-8',
  yaml: 'text/plain; charset=utf-8',
  yml: 'text/plain; charset=utf-8',
  py: 'text/plain; charset=utf-8',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  pdf: 'application/pdf',
  parquet: 'application/octet-stream',
  onnx: 'application/octet-stream',
};

/** Content-Type for an artifact download. Active content (HTML, SVG, JS) is served as plain text so it cannot run on this origin. */
export function artifactContentType(path: string): string {
  const base = path.split('/').pop() ?? '';
  if (base === 'MLmodel') return 'text/plain; charset=utf-8';
  const ext = base.includes('.') ? base.split('.').pop()!.toLowerCase() : '';
  return TYPES[ext] ?? (['html', 'htm', 'svg', 'js', 'mjs', 'xml', 'xhtml'].includes(ext) ? 'text/plain; charset=utf-8' : 'application/octet-stream');
}
