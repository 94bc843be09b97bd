/**
 * Links printed by MLflow clients point at a hash-routed UI: `<tracking uri>/#/experiments/3/runs/<id>`,
 * `/#/experiments/3`, `/#/models/<name>/versions/<v>`, `/#/compare-runs?runs=[...]`. This maps such a hash to
 * the path of the page that shows the same thing here, so those links open the right page. Pure; unit-tested.
 */

const seg = (s: string): string => {
  let d = s;
  try {
    d = decodeURIComponent(s);
  } catch {
    // a malformed escape is kept as written
  }
  return encodeURIComponent(d);
};

/** The path (with query) for a hash like `#/experiments/3/runs/abc`, or undefined when the hash is not such a link. */
export function pathForHash(hash: string): string | undefined {
  if (!hash.startsWith('#/')) return undefined;
  const rest = hash.slice(1);
  const q = rest.indexOf('?');
  const path = q < 0 ? rest : rest.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : rest.slice(q + 1));
  const parts = path.split('/').filter(Boolean);
  const [head, a, b, c] = parts;
  if (head === 'experiments' && a) {
    // /experiments/<e>/runs/<run>[/artifacts/...]: the run's page (whatever tab or path follows)
    if (b === 'runs' && c) return `/runs/${seg(c)}`;
    return `/experiments/${seg(a)}`;
  }
  if (head === 'experiments' || head === 'experiments-list') return '/experiments';
  if (head === 'models') {
    if (!a) return '/models';
    if (b === 'versions' && c) return `/models/${seg(a)}/versions/${seg(c)}`;
    return `/models/${seg(a)}`;
  }
  if (head === 'compare-runs') {
    // ?runs=["a","b"]&experiments=["1"] (JSON lists)
    let runs: unknown;
    try {
      runs = JSON.parse(query.get('runs') ?? '[]');
    } catch {
      runs = [];
    }
    const ids = Array.isArray(runs) ? runs.filter((x): x is string => typeof x === 'string' && x !== '') : [];
    return ids.length ? `/compare?runs=${ids.map(seg).join(',')}` : '/compare';
  }
  return undefined;
}
