import type { Readable } from 'node:stream';
import type { ArtifactEntry, ArtifactObject, ArtifactStore } from '../platform/artifacts/types.js';
import { joinArtifactPath, normalizeArtifactPath, reservedPrefixOf, storePrefixOf } from '../platform/artifacts/path.js';
import { KilnError, notFound } from '../platform/errors.js';
import type { TrackingService } from './service.js';

export interface RunArtifactListing {
  readonly rootUri: string;
  /** Paths relative to the run's artifact root. */
  readonly files: readonly ArtifactEntry[];
}

/** A run's artifacts: list, read, write and delete files under its artifact root. */
export class RunArtifactService {
  constructor(
    private readonly tracking: TrackingService,
    private readonly store: ArtifactStore,
    /** Folders other capabilities own: a run whose location points into one (an experiment made before locations were checked) is refused. */
    private readonly reserved: readonly string[] = [],
  ) {}

  private async prefix(runId: string): Promise<{ prefix: string; rootUri: string }> {
    const info = await this.tracking.getRunInfo(runId);
    const prefix = storePrefixOf(info.artifactUri);
    if (prefix === undefined) {
      throw new KilnError(
        'INVALID_PARAMETER_VALUE',
        `The artifacts of run ${runId} live at ${info.artifactUri}, outside this server's artifact store; read them from there directly.`,
      );
    }
    const owned = reservedPrefixOf(prefix, this.reserved);
    if (owned !== undefined) {
      throw new KilnError('PERMISSION_DENIED', `The artifacts of run ${runId} would live at ${info.artifactUri}, inside '${owned}/', which the server keeps for its own storage.`);
    }
    return { prefix, rootUri: info.artifactUri };
  }

  async list(runId: string, path = ''): Promise<RunArtifactListing> {
    const { prefix, rootUri } = await this.prefix(runId);
    const rel = normalizeArtifactPath(path, { allowEmpty: true });
    const entries = await this.store.list(joinArtifactPath(prefix, rel));
    const strip = prefix === '' ? 0 : prefix.length + 1;
    return { rootUri, files: entries.map((e) => ({ ...e, path: e.path.slice(strip) })) };
  }

  async read(runId: string, path: string): Promise<ArtifactObject> {
    const { prefix } = await this.prefix(runId);
    const rel = normalizeArtifactPath(path);
    return this.store.get(joinArtifactPath(prefix, rel));
  }

  async write(runId: string, path: string, body: Readable | Buffer, size?: number): Promise<void> {
    const run = await this.tracking.getRunInfo(runId);
    if (run.lifecycleStage !== 'active') throw new KilnError('INVALID_PARAMETER_VALUE', `The run ${runId} must be in the 'active' state to log artifacts.`);
    const { prefix } = await this.prefix(runId);
    await this.store.put(joinArtifactPath(prefix, normalizeArtifactPath(path)), body, size);
  }

  async remove(runId: string, path: string): Promise<void> {
    const { prefix } = await this.prefix(runId);
    const rel = normalizeArtifactPath(path);
    const full = joinArtifactPath(prefix, rel);
    if (!(await this.store.exists(full)) && (await this.store.list(full)).length === 0) throw notFound(`No artifact at '${rel}' in run ${runId}`);
    await this.store.delete(full);
  }
}
