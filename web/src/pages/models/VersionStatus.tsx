import type { ModelVersion } from '../../../../src/registry/schemas';

/** A version's status as a badge (with its message as the tooltip); nothing for a READY version unless `always`. */
export function VersionStatus({ v, always = false }: { v: Pick<ModelVersion, 'status' | 'status_message'>; always?: boolean }) {
  if (v.status === 'READY' && !always) return null;
  return (
    <span className={`badge status-${v.status}`} title={v.status_message ?? undefined}>
      {v.status}
    </span>
  );
}

/**
 * What a list shows as a model's latest version: the newest READY one, and the versions newer than it that are
 * not ready (pending or failed, shown with their status, never as the latest).
 */
export function latestVersions(versions: readonly ModelVersion[]): { ready?: ModelVersion; newer: ModelVersion[] } {
  const sorted = [...versions].sort((a, b) => b.version - a.version);
  const i = sorted.findIndex((v) => v.status === 'READY');
  return i < 0 ? { newer: sorted } : { ready: sorted[i], newer: sorted.slice(0, i) };
}
