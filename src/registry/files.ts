import type { ArtifactEntry, ArtifactObject, ArtifactStore } from '../platform/artifacts/types.js';
import { joinArtifactPath, normalizeArtifactPath } from '../platform/artifacts/path.js';
import { KilnError, notFound } from '../platform/errors.js';
import { storePrefixOf } from '../platform/artifacts/path.js';
import type { RegistryService } from './service.js';

/** A model version's files, read from the server's artifact store (the storage location must live there). */
export class ModelFiles {
  constructor(
    private readonly registry: RegistryService,
    private readonly store: ArtifactStore,
  ) {}

  private async prefix(name: string, version: string | number): Promise<{ prefix: string; rootUri: string }> {
    const location = await this.registry.getDownloadUri(name, version);
    const prefix = storePrefixOf(location);
    if (prefix === undefined) {
      throw new KilnError('INVALID_PARAMETER_VALUE', `Version ${version} of '${name}' lives at ${location}, outside this server's artifact store; read it from there directly.`);
    }
    return { prefix, rootUri: location };
  }

  /** Immediate children of a folder of the version ('' is its root); a version that is one file lists that file. */
  async list(name: string, version: string | number, path = ''): Promise<{ rootUri: string; files: ArtifactEntry[] }> {
    const { prefix, rootUri } = await this.prefix(name, version);
    const rel = normalizeArtifactPath(path, { allowEmpty: true });
    const full = joinArtifactPath(prefix, rel);
    const entries = await this.store.list(full);
    if (entries.length === 0 && rel === '' && (await this.store.exists(full))) {
      const obj = await this.store.get(full);
      obj.body.destroy();
      return { rootUri, files: [{ path: full.slice(full.lastIndexOf('/') + 1), isDir: false, size: obj.size }] };
    }
    const strip = prefix === '' ? 0 : prefix.length + 1;
    return { rootUri, files: entries.map((e) => ({ ...e, path: e.path.slice(strip) })) };
  }

  async read(name: string, version: string | number, path: string): Promise<ArtifactObject> {
    const { prefix } = await this.prefix(name, version);
    const rel = normalizeArtifactPath(path, { allowEmpty: true });
    if (await this.store.exists(prefix)) {
      // A version that is one file: its only file is itself, named by its last segment.
      const own = prefix.slice(prefix.lastIndexOf('/') + 1);
      if (rel === '' || rel === own) return this.store.get(prefix);
      throw notFound(`No file '${rel}' in version ${version} of '${name}': the version is the single file '${own}'.`);
    }
    return this.store.get(joinArtifactPath(prefix, rel));
  }
}
