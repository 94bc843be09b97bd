import type { Gate } from '../../../../src/registry/schemas';

/** Each gate's verdict with its message (why it failed). */
export function Gates({ gates, label = 'Gates' }: { gates: Gate[]; label?: string }) {
  if (gates.length === 0) return <p className="muted">No gates: the policy has no rules.</p>;
  return (
    <div role="list" aria-label={label}>
      {gates.map((g, i) => (
        <div className="gate" role="listitem" key={i} data-passed={g.passed}>
          <span className={g.passed ? 'verdict pass' : 'verdict fail'}>{g.passed ? '✓ PASS' : '✗ FAIL'}</span>
          <strong>{g.gate}</strong>
          <span className={g.passed ? undefined : 'error-text'}>{g.message}</span>
        </div>
      ))}
    </div>
  );
}

export const STATUS_CLASS: Record<string, string> = { PROMOTED: 'ok', REJECTED: 'bad', PENDING_APPROVAL: 'warn' };
