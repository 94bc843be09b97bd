import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KilnError } from '../errors.js';
import type { ArtifactStore } from './types.js';

export type { ArtifactEntry, ArtifactObject, ArtifactStore } from './types.js';
export { normalizeArtifactPath, joinArtifactPath, MAX_ARTIFACT_PATH_BYTES, MAX_ARTIFACT_NAME_BYTES } from './path.js';

const SUPPORTED = 'use file:///absolute/path (or an absolute path) or s3://bucket/prefix';

/**
 * The artifact store for a URI: file:///abs/path or a plain absolute path → a local folder; s3://bucket/prefix → an
 * S3-compatible bucket, configured from `env` (see `s3OptionsFromEnv`). Each implementation is imported only when
 * chosen, so a local setup never loads the AWS SDK. The store is not contacted here: call `ready()`.
 */
export async function createArtifactStore(uri: string, env: NodeJS.ProcessEnv = process.env): Promise<ArtifactStore> {
  if (typeof uri !== 'string' || uri.trim() === '') throw new KilnError('INVALID_PARAMETER_VALUE', `No artifact store URI given: ${SUPPORTED}`);
  if (uri.startsWith('file://')) {
    let path: string;
    try {
      path = fileURLToPath(uri);
    } catch (e) {
      throw new KilnError('INVALID_PARAMETER_VALUE', `Invalid artifact store URI '${uri}' (${(e as Error).message}): ${SUPPORTED}`);
    }
    const { LocalArtifactStore } = await import('./local/store.js');
    return new LocalArtifactStore(path);
  }
  if (uri.startsWith('s3://')) {
    const { S3ArtifactStore, parseS3Uri, s3OptionsFromEnv } = await import('./s3/store.js');
    return new S3ArtifactStore({ ...parseS3Uri(uri), ...s3OptionsFromEnv(env) });
  }
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(uri) && isAbsolute(uri)) {
    const { LocalArtifactStore } = await import('./local/store.js');
    return new LocalArtifactStore(uri);
  }
  throw new KilnError('INVALID_PARAMETER_VALUE', `Unsupported artifact store URI '${uri}': ${SUPPORTED}`);
}
