import { enc } from '../../lib/api';
import type { Deployment, Resolved } from '../../../../packages/sdk/src/contract/serving-schemas';

export type { Deployment, DeploymentConfig, PayloadRecord, Resolved, Revision, VersionStats } from '../../../../packages/sdk/src/contract/serving-schemas';

export const deploymentHref = (name: string) => `/deployments/${enc(name)}`;

/** Where clients send requests: the Open Inference Protocol and MLflow's scoring protocol. */
export const oipUrl = (name: string) => `${window.location.origin}/v2/models/${enc(name)}/infer`;
export const mlflowUrl = (name: string) => `${window.location.origin}/deployments/${enc(name)}/invocations`;

/** A share as a percentage: 90%, 33.3%, 0.5%. */
export function percent(share: number): string {
  const p = share * 100;
  if (p === 0 || p === 100) return `${p}%`;
  return `${Number(p.toPrecision(p < 1 ? 2 : 3))}%`;
}

/** Each target's share of the traffic (weight / sum of weights; equal shares when every weight is 0). */
export function shares(targets: readonly { weight: number }[]): number[] {
  const total = targets.reduce((s, t) => s + t.weight, 0);
  return targets.map((t) => (total > 0 ? t.weight / total : 1 / targets.length));
}

/** "rain/3 90% · rain/4 10% · shadow rain/5 20%" */
export function trafficSummary(r: Resolved): string {
  const s = shares(r.targets);
  const parts = r.targets.map((t, i) => `${t.name}/${t.version} ${percent(s[i] ?? 0)}`);
  if (r.shadow) parts.push(`shadow ${r.shadow.name}/${r.shadow.version} ${percent(r.shadow.fraction)}`);
  return parts.join(' · ');
}

export type OverallState = 'ready' | 'loading' | 'failed' | 'idle';

/**
 * One word for what the answering server has loaded: failed when a version failed, loading while one loads, ready
 * when every version is, idle when none is loaded yet (versions load at their first request).
 */
export function overallState(status: Deployment['status']): OverallState {
  const s = status ?? [];
  if (s.some((v) => v.state === 'failed')) return 'failed';
  if (s.some((v) => v.state === 'loading')) return 'loading';
  if (s.length > 0 && s.every((v) => v.state === 'ready')) return 'ready';
  return 'idle';
}

export const STATE_CLASS: Record<string, string> = { ready: 'ok', loading: 'warn', failed: 'bad', idle: '', absent: '' };

/** A deployment name from a model name: the characters a deployment name allows ([A-Za-z0-9._-]), lowercased. */
export function deploymentName(model: string): string {
  const s = model
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-.]+|-+$/g, '')
    .slice(0, 128);
  return s || 'deployment';
}

export const KIND_LABEL: Record<string, string> = {
  created: 'Created',
  updated: 'Updated',
  rolled_back: 'Rolled back',
  alias_moved: 'Alias moved',
  guard_tripped: 'Guard tripped',
};

/** A latency in milliseconds: 0.42 ms, 12.3 ms, 1250 ms. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return `${ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : Math.round(ms)} ms`;
}
