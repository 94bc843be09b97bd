import { useState } from 'react';
import { Link, useNavigate, useSearchParams } from 'react-router-dom';
import { get } from '../../lib/api';
import { formatAgo } from '../../lib/format';
import type { ModelVersion } from '../../../../src/registry/schemas';
import type { Dataset } from '../../../../src/data/schemas';
import type { LineageDirection, LineageGraph as Graph } from '../../../../src/lineage/schemas';
import { useApi } from '../../lib/useApi';
import { Empty, ErrorState, Loading } from '../../components/States';
import { LineageGraph } from '../../components/lineage/LineageGraph';
import { KIND_LABEL, lineageHref, nodeHref } from '../../logic/lineage-layout';
import '../models/registry.css';
import { VersionStatus } from '../models/VersionStatus';

const DIRECTIONS: { value: LineageDirection; label: string }[] = [
  { value: 'up', label: 'Upstream (where it came from)' },
  { value: 'down', label: 'Downstream (what it fed)' },
  { value: 'both', label: 'Both directions' },
];

/** The lineage graph around any node (?node=&direction=&depth=); without a node, a picker of recent versions. */
export default function LineagePage() {
  const [params, setParams] = useSearchParams();
  const node = params.get('node') ?? '';
  const direction = (['up', 'down', 'both'].includes(params.get('direction') ?? '') ? params.get('direction') : 'both') as LineageDirection;
  const depth = Math.min(10, Math.max(1, Number(params.get('depth')) || 3));
  const set = (k: string, v: string) =>
    setParams((p) => {
      p.set(k, v);
      return p;
    });
  if (!node) return <Picker />;
  return (
    <>
      <div className="row" style={{ padding: '10px 16px', borderBottom: '1px solid var(--border)', flexWrap: 'wrap' }}>
        <h1 style={{ margin: 0, fontSize: 17 }}>Lineage</h1>
        <code className="muted" style={{ marginLeft: 8 }}>
          {node}
        </code>
        {nodeHref(node) && (
          <Link to={nodeHref(node)!} style={{ marginLeft: 4 }}>
            open page
          </Link>
        )}
        <span className="grow" />
        <label className="row">
          Direction
          <select aria-label="Direction" value={direction} onChange={(e) => set('direction', e.target.value)}>
            {DIRECTIONS.map((d) => (
              <option key={d.value} value={d.value}>
                {d.label}
              </option>
            ))}
          </select>
        </label>
        <label className="row">
          Depth
          <select aria-label="Depth" value={depth} onChange={(e) => set('depth', e.target.value)}>
            {[1, 2, 3, 4, 5, 6, 8, 10].map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </label>
        <Link to="/lineage">Pick another</Link>
      </div>
      <GraphView node={node} direction={direction} depth={depth} />
    </>
  );
}

function GraphView({ node, direction, depth }: { node: string; direction: LineageDirection; depth: number }) {
  const g = useApi((signal) => get<Graph>('/lineage', { node, direction, depth }, signal), [node, direction, depth]);
  if (g.error) return <ErrorState error={g.error} retry={g.reload} />;
  if (!g.data || g.loading) return <Loading what="Loading lineage" />;
  const data = g.data;
  return (
    <>
      {data.truncated && (
        <p className="muted" role="note" style={{ margin: '6px 16px' }}>
          The graph was cut at its size limit; lower the depth or re-root on a node.
        </p>
      )}
      {data.nodes.length <= 1 && (
        <p className="muted" style={{ margin: '6px 16px' }}>
          Nothing {direction === 'up' ? 'upstream' : direction === 'down' ? 'downstream' : 'connected'} of this {KIND_LABEL[data.nodes[0]?.kind ?? 'run']} yet.
        </p>
      )}
      <LineageGraph nodes={data.nodes} edges={data.edges} root={data.root} depth={depth} fill label={`Lineage of ${node}`} />
    </>
  );
}

function Picker() {
  const navigate = useNavigate();
  const [typed, setTyped] = useState('');
  const recent = useApi(
    async (signal) => {
      const [mv, ds] = await Promise.all([
        get<{ versions: ModelVersion[] }>('/model-versions', { order_by: ['creation_timestamp DESC'], max_results: 15 }, signal),
        get<{ datasets: Dataset[] }>('/datasets', { max_results: 15 }, signal),
      ]);
      return { versions: mv.versions, datasets: ds.datasets };
    },
    [],
  );
  return (
    <div style={{ padding: '20px 24px', overflow: 'auto' }}>
      <h1>Lineage</h1>
      <p className="muted">Pick a model version or a dataset version to see where it came from and what it fed, or enter a node id.</p>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          if (typed.trim()) navigate(lineageHref(typed.trim()));
        }}
      >
        <input
          aria-label="Node id"
          placeholder="models:/rain/3, datasets:/weather/2, runs:/<id>"
          value={typed}
          onChange={(e) => setTyped(e.target.value)}
          style={{ width: 420 }}
        />
        <button type="submit" disabled={!typed.trim()}>
          Show lineage
        </button>
      </form>
      {recent.error ? (
        <ErrorState error={recent.error} retry={recent.reload} />
      ) : !recent.data ? (
        <Loading what="Loading recent versions" />
      ) : (
        <div className="grid2" style={{ marginTop: 16 }}>
          <section className="card" aria-label="Recent model versions">
            <h2 style={{ marginTop: 0 }}>Recent model versions</h2>
            {recent.data.versions.length === 0 ? (
              <Empty>No model versions yet.</Empty>
            ) : (
              <ul className="plain-list">
                {recent.data.versions.map((v) => (
                  <li key={`${v.name}/${v.version}`}>
                    <Link to={lineageHref(`models:/${v.name}/${v.version}`, 'up')}>
                      {v.name} v{v.version}
                    </Link>{' '}
                    <VersionStatus v={v} />
                    {v.aliases.map((a) => (
                      <span key={a} className="badge" style={{ marginLeft: 4 }}>
                        @{a}
                      </span>
                    ))}{' '}
                    <span className="muted">{formatAgo(v.creation_time)}</span>
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section className="card" aria-label="Datasets">
            <h2 style={{ marginTop: 0 }}>Dataset versions</h2>
            {recent.data.datasets.length === 0 ? (
              <Empty>No datasets yet.</Empty>
            ) : (
              <ul className="plain-list">
                {recent.data.datasets.map((d) => (
                  <li key={d.name}>
                    <strong>{d.name}</strong>{' '}
                    {Array.from({ length: Math.min(d.version_count, 6) }, (_, i) => (d.latest_version ?? 0) - i)
                      .filter((v) => v > 0)
                      .map((v) => (
                        <Link key={v} to={lineageHref(`datasets:/${d.name}/${v}`, 'down')} style={{ marginRight: 8 }} aria-label={`${d.name} v${v}`}>
                          v{v}
                        </Link>
                      ))}
                    <span className="muted">{formatAgo(d.last_update_time)}</span>
                  </li>
                ))}
              </ul>
            )}
          </section>
        </div>
      )}
      <p className="muted" style={{ marginTop: 16 }}>
        Datasets: <Link to="/datasets">all datasets</Link> · Models: <Link to="/models">all models</Link>
      </p>
    </div>
  );
}
