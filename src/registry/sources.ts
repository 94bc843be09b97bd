import { invalid } from '../platform/errors.js';
import type { TrackingService } from '../tracking/service.js';
import type { LoggedModelService } from '../tracking/logged-model-service.js';
import { reservedPrefixOf, storePrefixOf } from '../platform/artifacts/path.js';
import type { ModelVersion } from './types.js';

export interface SourceDeps {
  readonly tracking: TrackingService;
  readonly loggedModels: LoggedModelService;
  readonly resolveModelUri: (uri: string) => Promise<ModelVersion>;
  /** Folders of the store that other capabilities own: a source inside one is refused. */
  readonly reservedArtifactPrefixes?: readonly string[];
}

/** Schemes of storage outside the server that a source may name: registered as given, never read. */
export const EXTERNAL_SOURCE_SCHEMES = ['s3', 's3a', 'gs', 'wasbs', 'abfss', 'hdfs', 'dbfs'] as const;

const ACCEPTED = `runs:/<run_id>/<path>, models:/<name>/<version>, models:/<name>@<alias>, models:/m-<model_id>, mlflow-artifacts:/<path>, or a location in external storage (${EXTERNAL_SOURCE_SCHEMES.map((s) => `${s}:/`).join(', ')})`;

/** Close misspellings of the schemes Kiln reads, for the message that refuses them. */
const DID_YOU_MEAN: Readonly<Record<string, string>> = { run: 'runs', model: 'models', 'mlflow-artifact': 'mlflow-artifacts', artifacts: 'mlflow-artifacts' };

/**
 * Refuses a source whose scheme Kiln does not know (`run:/...`, `/local/path`, `ftp://...`): it could never be
 * found, so registering it would make a version that only fails later, at download.
 */
function checkScheme(source: string): void {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(source);
  const scheme = m?.[1]!.toLowerCase();
  if (scheme === 'runs' || scheme === 'models' || scheme === 'mlflow-artifacts') return;
  if (scheme !== undefined && (EXTERNAL_SOURCE_SCHEMES as readonly string[]).includes(scheme)) return;
  const hint = scheme !== undefined && DID_YOU_MEAN[scheme] ? ` Did you mean ${DID_YOU_MEAN[scheme]}:/?` : '';
  const what = scheme === undefined ? 'names no scheme' : `has the unknown scheme '${scheme}:'`;
  throw invalid(`Invalid source '${source}': it ${what}.${hint} A source is ${ACCEPTED}.`);
}

/**
 * Where a new version's files are, and which run and logged model it comes from: `runs:/<run>/<path>` (the run's
 * artifacts), `models:/m-<id>` or a `model_id` (an MLflow 3 logged model), `models:/<name>/<version>` (another
 * version's files), `mlflow-artifacts:/...` (checked for path tricks), or a location in external storage (kept as
 * given). Any other scheme is refused.
 */
export async function resolveVersionSource(deps: SourceDeps, source: string, runId: string | undefined, modelId: string | undefined): Promise<ResolvedSource> {
  checkScheme(source);
  const resolved = await resolve(deps, source, runId, modelId);
  // A location in the server's store must be a clean path ('..' and other tricks are refused), however it was named.
  if (resolved.storageLocation.startsWith('mlflow-artifacts:')) {
    const path = storePrefixOf(resolved.storageLocation) ?? '';
    const owned = reservedPrefixOf(path, deps.reservedArtifactPrefixes ?? []);
    if (owned !== undefined) throw invalid(`Invalid source '${source}': the store's '${owned}/' folder belongs to another capability and holds no model files.`);
  }
  return resolved;
}

interface ResolvedSource {
  readonly storageLocation: string;
  readonly runId?: string;
  readonly loggedModelId?: string;
}

async function resolve(deps: SourceDeps, source: string, runId: string | undefined, modelId: string | undefined): Promise<ResolvedSource> {
  // getRunInfo checks the id's form (400) before looking it up (404).
  const run = runId ? await deps.tracking.getRunInfo(runId) : undefined;
  if (source.startsWith('runs:/')) {
    const m = /^runs:\/+([^/]+)(?:\/(.*))?$/.exec(source);
    if (!m) throw invalid(`Invalid source '${source}': expected runs:/<run_id>/<path>.`);
    const sourceRun = await deps.tracking.getRunInfo(m[1]!);
    if (run && run.runId !== sourceRun.runId) throw invalid(`The source names run ${sourceRun.runId} but run_id is ${run.runId}.`);
    const path = (m[2] ?? '').replace(/\/+$/, '');
    return { storageLocation: path ? `${sourceRun.artifactUri}/${path}` : sourceRun.artifactUri, runId: sourceRun.runId };
  }
  const lm = /^models:\/+(m-[0-9a-f]{32})\/?$/.exec(source) ?? (modelId ? [source, modelId] : null);
  if (lm) {
    const logged = await deps.loggedModels.get(lm[1]!);
    return { storageLocation: source.startsWith('models:/') ? logged.artifactUri : source, runId: run?.runId ?? logged.sourceRunId ?? undefined, loggedModelId: logged.modelId };
  }
  if (source.startsWith('models:/')) {
    const other = await deps.resolveModelUri(source);
    return { storageLocation: other.storageLocation, runId: run?.runId ?? other.runId ?? undefined };
  }
  return { storageLocation: source, ...(run ? { runId: run.runId } : {}) };
}
