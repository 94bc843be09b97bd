import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KilnError } from '../errors.js';
import type { ArtifactStore } from './types.js';

export type { ArtifactEntry, ArtifactObject, ArtifactStore } from './types.js';
export { normalizeArtifactPath, joinArtifactPath } from './path.js';

/** file:///abs/path (or an absolute path) → local folder; s3://bucket/prefix → S3-compatible storage. */
export async function createArtifactStore(uri: string, env: NodeJS.ProcessEnv = process.env): Promise<ArtifactStore> {
  if (uri.startsWith('file://')) {
    const { LocalArtifactStore } = await import('./local/store.js');
    return new LocalArtifactStore(fileURLToPath(uri));
  }
  if (isAbsolute(uri)) {
    const { LocalArtifactStore } = await import('./local/store.js');
    return new LocalArtifactStore(uri);
  }
  if (uri.startsWith('s3://')) {
    const { S3ArtifactStore, s3OptionsFromEnv } = await import('./s3/store.js');
    const rest = uri.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash === -1 ? rest : rest.slice(0, slash);
    const prefix = slash === -1 ? '' : rest.slice(slash + 1).replace(/^\/+|\/+$/g, '');
    if (!bucket) throw new KilnError('INVALID_PARAMETER_VALUE', `Invalid S3 URI '${uri}': use s3://bucket/prefix`);
    return new S3ArtifactStore({ bucket, prefix, ...s3OptionsFromEnv(env) });
  }
  throw new KilnError('INVALID_PARAMETER_VALUE', `Unsupported artifact store URI '${uri}': use file:///absolute/path or s3://bucket/prefix`);
}
