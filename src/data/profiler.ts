/**
 * Profiling the blobs of a version. The work runs in a worker thread that opens the artifact store itself and
 * streams the blobs from it, so the event loop keeps answering (health checks, other requests) during a
 * multi-second profile. At most `maxConcurrent` profiles run at once (each takes a core and ~100 MB); the
 * others wait in a queue.
 */
import { PassThrough, type Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { KilnError, type ErrorCode } from '../platform/errors.js';
import type { ArtifactStore } from '../platform/artifacts/types.js';
import { formatFromName, profileSources, type DatasetProfile, type ProfileSource } from './profile/index.js';
import { blobPath, type ManifestEntry } from './manifest.js';

/** Profiles the files of a manifest (their blobs already stored) as one table. */
export type Profiler = (files: readonly ManifestEntry[]) => Promise<DatasetProfile>;

/** A stream of a blob, opened lazily (ProfileSource.open is synchronous; the store's get is not). */
function blobStream(artifacts: ArtifactStore, sha256: string): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  let body: Readable | undefined;
  out.on('close', () => body?.destroy());
  artifacts.get(blobPath(sha256)).then(
    (obj) => {
      body = obj.body;
      if (out.destroyed) return void body.destroy();
      body.on('error', (e) => out.destroy(e));
      body.pipe(out);
    },
    (e: unknown) => out.destroy(e as Error),
  );
  return out;
}

export function sourcesFor(artifacts: ArtifactStore, files: readonly ManifestEntry[]): ProfileSource[] {
  return files.map((f) => ({ name: f.path, format: formatFromName(f.path)!, size: f.bytes, open: () => blobStream(artifacts, f.sha256) }));
}

/** Profiles on the calling thread (tests, tools); the server uses `workerProfiler`. */
export function inProcessProfiler(artifacts: ArtifactStore): Profiler {
  return (files) => profileSources(sourcesFor(artifacts, files));
}

/** @internal protocol with profile-worker.js */
export interface ProfileJob {
  readonly artifactsUri: string;
  readonly files: readonly ManifestEntry[];
}
/** @internal */
export type ProfileReply = { ok: true; profile: DatasetProfile } | { ok: false; code: string; message: string; details?: Record<string, unknown> };

export interface WorkerProfilerOptions {
  /** The artifact store the worker opens (the server's). */
  readonly artifactsUri: string;
  /** Profiles running at once (default 2). */
  readonly maxConcurrent?: number;
  readonly workerUrl?: URL;
}

/** Profiles in a fresh worker thread per job (start-up ~40 ms, negligible beside a profile), with a concurrency cap. */
export function workerProfiler(opts: WorkerProfilerOptions): Profiler {
  const max = opts.maxConcurrent ?? 2;
  const url = opts.workerUrl ?? new URL('./profile-worker.js', import.meta.url);
  let running = 0;
  const queue: (() => void)[] = [];
  const acquire = () => (running < max ? (running++, Promise.resolve()) : new Promise<void>((r) => queue.push(r)));
  const release = () => {
    const next = queue.shift();
    if (next) next();
    else running--;
  };
  return async (files) => {
    await acquire();
    try {
      return await runWorker(url, { artifactsUri: opts.artifactsUri, files });
    } finally {
      release();
    }
  };
}

function runWorker(url: URL, job: ProfileJob): Promise<DatasetProfile> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(url, { workerData: job });
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      fn();
      void worker.terminate();
    };
    worker.once('message', (m: ProfileReply) =>
      settle(() => (m.ok ? resolve(m.profile) : reject(new KilnError(m.code in ERROR_CODES_SET ? (m.code as ErrorCode) : 'INTERNAL_ERROR', m.message, m.details)))),
    );
    worker.once('error', (e) => settle(() => reject(new KilnError('INTERNAL_ERROR', `profiling worker crashed: ${e.message}`))));
    worker.once('exit', (code) => settle(() => reject(new KilnError('INTERNAL_ERROR', `profiling worker exited unexpectedly (code ${code})`))));
  });
}

const ERROR_CODES_SET: Record<string, true> = {
  INVALID_PARAMETER_VALUE: true,
  RESOURCE_DOES_NOT_EXIST: true,
  REQUEST_TOO_LARGE: true,
  INTERNAL_ERROR: true,
};
