/** Worker thread: opens the artifact store, profiles the blobs of one manifest, posts the profile back. */
import { parentPort, workerData } from 'node:worker_threads';
import { createArtifactStore } from '../platform/artifacts/index.js';
import { isKilnError } from '../platform/errors.js';
import { profileSources } from './profile/index.js';
import { sourcesFor, type ProfileJob, type ProfileReply } from './profiler.js';

const job = workerData as ProfileJob;
const post = (m: ProfileReply) => parentPort!.postMessage(m);

const artifacts = await createArtifactStore(job.artifactsUri);
try {
  post({ ok: true, profile: await profileSources(sourcesFor(artifacts, job.files)) });
} catch (e) {
  if (isKilnError(e)) post({ ok: false, code: e.code, message: e.message, details: e.details ? { ...e.details } : undefined });
  else post({ ok: false, code: 'INTERNAL_ERROR', message: `profiling failed: ${(e as Error).message}` });
} finally {
  await artifacts.close();
}
