/** Deployment configurations: defaults, merging a change into the configuration in force, and the checks the schema can't make. */
import { invalid } from '../platform/errors.js';
import type { DeploymentConfig, DeploymentConfigInput } from '@kiln-mlops/sdk/contract/serving-schemas';

export type { DeploymentConfig, DeploymentConfigInput } from '@kiln-mlops/sdk/contract/serving-schemas';

export const DEFAULT_BATCHING: DeploymentConfig['batching'] = { enabled: true, max_batch_size: 64, max_queue_delay_ms: 0, max_queue_size: 2048, timeout_ms: 30_000 };
export const DEFAULT_RESOURCES: DeploymentConfig['resources'] = { sessions: 1, intra_op_threads: 1 };

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function validateDeploymentName(name: unknown): string {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw invalid(`Invalid deployment name '${String(name).slice(0, 140)}': use 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit.`);
  }
  return name;
}

/**
 * The configuration after a change: parts the input gives replace the ones in force (`model` stands for one target
 * with all the traffic); on create there is nothing in force and the defaults fill the rest.
 */
export function mergeConfig(base: DeploymentConfig | undefined, input: DeploymentConfigInput): DeploymentConfig {
  if (input.model !== undefined && input.targets !== undefined) throw invalid("Give either 'model' (one target) or 'targets', not both.");
  const targets = input.model !== undefined ? [{ model: input.model, weight: 1 }] : input.targets?.map((t) => ({ model: t.model, weight: t.weight ?? 1 })) ?? base?.targets;
  if (targets === undefined) throw invalid("Missing value for required parameter 'model': the model URI to serve (models:/NAME@ALIAS or models:/NAME/VERSION), or 'targets'.");
  const config: DeploymentConfig = {
    targets,
    shadow: input.shadow !== undefined ? input.shadow : (base?.shadow ?? null),
    sticky_header: input.sticky_header !== undefined ? (input.sticky_header?.toLowerCase() ?? null) : (base?.sticky_header ?? null),
    batching: { ...(base?.batching ?? DEFAULT_BATCHING), ...input.batching },
    payload_log: { ...(base?.payload_log ?? { sample_rate: 1 }), ...input.payload_log },
    resources: { ...(base?.resources ?? DEFAULT_RESOURCES), ...input.resources },
    guard: input.guard !== undefined ? input.guard : (base?.guard ?? null),
  };
  checkConfig(config);
  return config;
}

/** What the schema can't say: weights that route somewhere, distinct targets, a guard that watches something. */
export function checkConfig(c: DeploymentConfig): void {
  for (const t of c.targets) {
    if (!Number.isFinite(t.weight) || t.weight < 0) throw invalid(`Target ${t.model}: weight must be a finite number ≥ 0, got ${t.weight}.`);
  }
  if (!c.targets.some((t) => t.weight > 0)) throw invalid('At least one target needs a weight above 0: otherwise no request could be answered.');
  const seen = new Set<string>();
  for (const t of c.targets) {
    if (seen.has(t.model)) throw invalid(`Target ${t.model} is listed twice; give it one weight.`);
    seen.add(t.model);
  }
  if (c.guard && c.guard.max_error_rate === undefined && c.guard.max_p99_ms === undefined) {
    throw invalid('The guard needs max_error_rate, max_p99_ms or both: otherwise it never trips.');
  }
}

/** The registered model named by a models:/ URI (what follows the scheme up to '/' or '@'), or undefined. */
export function modelNameOfUri(uri: unknown): string | undefined {
  if (typeof uri !== 'string') return undefined;
  const m = /^models:\/(?:\/)?([^/@]+)(?:[/@].*)?$/.exec(uri);
  return m ? decodeURIComponent(m[1]!) : undefined;
}

/** The alias a models:/ URI follows (`latest` included: it moves when a newer version becomes READY), or undefined when it pins a version. */
export function followedAlias(uri: string): { name: string; alias: string } | undefined {
  const at = /^models:\/(?:\/)?([^/@]+)@(.+)$/.exec(uri);
  if (at) return { name: decodeURIComponent(at[1]!), alias: decodeURIComponent(at[2]!) };
  const latest = /^models:\/(?:\/)?([^/@]+)\/latest$/i.exec(uri);
  if (latest) return { name: decodeURIComponent(latest[1]!), alias: 'latest' };
  return undefined;
}
