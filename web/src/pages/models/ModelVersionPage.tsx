import { useState } from 'react';
import { Link, useParams, useSearchParams } from 'react-router-dom';
import { ApiError, enc, get, post } from '../../lib/api';
import { formatAgo, formatBytes, formatTime } from '../../lib/format';
import type { ModelPackage, ModelVersion, OnnxTensor, Policy, PromotionOutcome, ReproductionRecipe, SchemaSpec } from '../../../../src/registry/schemas';
import type { LineageGraph as Graph } from '../../../../src/lineage/schemas';
import { useApi } from '../../lib/useApi';
import { Empty, ErrorState, Loading } from '../../components/States';
import { Tabs, useUrlTab } from '../../components/UrlState';
import { LineageGraph } from '../../components/lineage/LineageGraph';
import { lineageHref } from '../../logic/lineage-layout';
import { Markdown } from './Markdown';
import { Gates, STATUS_CLASS } from './Gates';
import { datasetVersionHref, modelHref, runHref } from './links';
import { DeployButton, DeployForm } from './Deploy';
import './registry.css';

const TABS = [
  ['overview', 'Overview'],
  ['reproduce', 'Reproduce'],
  ['promote', 'Promote'],
] as const;

/** A model version: status, servability, source run, signature, ONNX details, upstream lineage, reproduction recipe and gated promotion. */
export default function ModelVersionPage() {
  const { name = '', version = '' } = useParams();
  const [tab, setTab] = useUrlTab(TABS);
  const mv = useApi((signal) => get<{ version: ModelVersion }>(`/models/${enc(name)}/versions/${enc(version)}`, undefined, signal).then((r) => r.version), [name, version]);
  const [deploying, setDeploying] = useState(false);

  if (mv.error) return <ErrorState error={mv.error} retry={mv.reload} />;
  if (!mv.data) return <Loading what="Loading version" />;
  const v = mv.data;
  const pkg: ModelPackage = v.package ?? {};
  const tags = Object.entries(v.tags);
  return (
    <div>
      <div className="crumbs">
        <Link to="/models">Models</Link> / <Link to={modelHref(v.name)}>{v.name}</Link> /
      </div>
      <div className="page-head">
        <h1>
          {v.name} <span className="muted">v{v.version}</span>
        </h1>
        <span className={`badge status-${v.status}`}>{v.status}</span>
        {v.aliases.map((a) => (
          <span key={a} className="badge alias">
            @{a}
          </span>
        ))}
        {v.servable ? <span className="badge ok">servable</span> : <span className="badge">not servable</span>}
        <span className="grow" />
        <span className="muted" title={formatTime(v.creation_time)}>
          registered {formatAgo(v.creation_time)}
          {v.user_id ? ` by ${v.user_id}` : ''}
        </span>
        <DeployButton v={v} open={deploying} onOpen={() => setDeploying(true)} />
      </div>
      {deploying && <DeployForm key={`${v.name}/${v.version}`} v={v} onCancel={() => setDeploying(false)} />}
      {v.status === 'FAILED_REGISTRATION' && (
        <div className="callout bad" role="alert">
          <strong>Registration failed.</strong> {v.status_message ?? 'No message was recorded.'}
        </div>
      )}
      {v.status === 'PENDING_REGISTRATION' && (
        <div className="callout" role="status">
          Being inspected… <button onClick={mv.reload}>Refresh</button>
        </div>
      )}
      {v.status === 'READY' && !v.servable && (
        <div className="callout" role="note">
          <strong>Not servable:</strong> {pkg.not_servable_reason ?? 'Kiln serves ONNX models whose signature matches.'}
        </div>
      )}
      <Tabs tabs={TABS} current={tab} onSelect={setTab} label="Version sections" />
      <div role="tabpanel">
        {tab === 'overview' && (
          <>
            <div className="grid2">
              <section className="card" aria-label="Details">
                <h2 style={{ marginTop: 0 }}>Details</h2>
                <dl className="kv">
                  <dt>Source run</dt>
                  <dd className="mono">{v.run_id ? <Link to={runHref(v.run_id)}>{v.run_id}</Link> : <span className="muted">none recorded</span>}</dd>
                  <dt>Source</dt>
                  <dd className="mono">{v.source}</dd>
                  <dt>Storage</dt>
                  <dd className="mono">{v.storage_location}</dd>
                  <dt>Flavors</dt>
                  <dd>{pkg.flavors?.length ? pkg.flavors.join(', ') : '—'}</dd>
                  <dt>Stage</dt>
                  <dd>{v.stage}</dd>
                  <dt>Files</dt>
                  <dd>{pkg.files !== undefined ? `${pkg.files} (${formatBytes(pkg.size_bytes)})` : '—'}</dd>
                  <dt>Updated</dt>
                  <dd>{formatTime(v.last_update_time)}</dd>
                </dl>
                {v.description && (
                  <>
                    <h2>Description</h2>
                    <Markdown source={v.description} label="Version description" />
                  </>
                )}
                {(pkg.warnings?.length ?? 0) > 0 && (
                  <>
                    <h2>Warnings</h2>
                    <ul>
                      {pkg.warnings!.map((w) => (
                        <li key={w}>{w}</li>
                      ))}
                    </ul>
                  </>
                )}
              </section>
              <section className="card" aria-label="Tags">
                <h2 style={{ marginTop: 0 }}>Tags</h2>
                {tags.length === 0 ? (
                  <span className="muted">No tags.</span>
                ) : (
                  <dl className="kv">
                    {tags.map(([k, val]) => (
                      <div key={k} style={{ display: 'contents' }}>
                        <dt className="mono">{k}</dt>
                        <dd>{val}</dd>
                      </div>
                    ))}
                  </dl>
                )}
              </section>
            </div>
            <Signature pkg={pkg} />
            <Onnx pkg={pkg} />
            <Upstream name={v.name} version={v.version} />
          </>
        )}
        {tab === 'reproduce' && <Reproduce name={v.name} version={v.version} />}
        {tab === 'promote' && <Promote v={v} onPromoted={mv.reload} />}
      </div>
    </div>
  );
}

function SpecTable({ spec, label }: { spec: SchemaSpec | undefined; label: string }) {
  if (!spec) return <p className="muted">No {label.toLowerCase()}.</p>;
  return (
    <table className="data-table" aria-label={`Signature ${label.toLowerCase()}`} style={{ width: '100%' }}>
      <thead>
        <tr>
          <th>Name</th>
          <th>Type</th>
          <th>{spec.kind === 'tensors' ? 'Shape' : 'Required'}</th>
        </tr>
      </thead>
      <tbody>
        {spec.kind === 'tensors'
          ? spec.tensors.map((t, i) => (
              <tr key={i}>
                <td className="mono">{t.name ?? <span className="muted">(unnamed)</span>}</td>
                <td className="mono">{t.dtype}</td>
                <td className="mono">[{t.shape.join(', ')}]</td>
              </tr>
            ))
          : spec.columns.map((c, i) => (
              <tr key={i}>
                <td className="mono">{c.name ?? <span className="muted">(unnamed)</span>}</td>
                <td className="mono">{c.type}</td>
                <td>{c.required === false ? 'optional' : 'required'}</td>
              </tr>
            ))}
      </tbody>
    </table>
  );
}

function Signature({ pkg }: { pkg: ModelPackage }) {
  return (
    <section aria-label="Signature">
      <h2>
        Signature{' '}
        {pkg.signature_source && <span className="muted" style={{ fontWeight: 400, fontSize: 13 }}>(from {pkg.signature_source === 'mlmodel' ? 'the MLmodel file' : 'the ONNX graph'})</span>}
      </h2>
      {!pkg.signature ? (
        <p className="muted">No signature.</p>
      ) : (
        <div className="grid2">
          <div>
            <h3 style={{ fontSize: 14 }}>Inputs</h3>
            <SpecTable spec={pkg.signature.inputs} label="Inputs" />
          </div>
          <div>
            <h3 style={{ fontSize: 14 }}>Outputs</h3>
            <SpecTable spec={pkg.signature.outputs} label="Outputs" />
          </div>
        </div>
      )}
    </section>
  );
}

function Onnx({ pkg }: { pkg: ModelPackage }) {
  const o = pkg.onnx;
  if (!o) return null;
  const tensorRows = (ts: OnnxTensor[]) =>
    ts.map((t) => (
      <tr key={t.name}>
        <td className="mono">{t.name}</td>
        <td className="mono">{t.type}</td>
        <td className="mono">[{t.shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]</td>
      </tr>
    ));
  return (
    <section aria-label="ONNX">
      <h2>ONNX</h2>
      <div className="grid2">
        <dl className="kv card">
          <dt>File</dt>
          <dd className="mono">{o.path}</dd>
          <dt>Opset</dt>
          <dd>{o.opset.map((s) => `${s.domain || 'ai.onnx'} ${s.version}`).join(', ')}</dd>
          <dt>IR version</dt>
          <dd>{o.ir_version}</dd>
          <dt>Producer</dt>
          <dd>{[o.producer_name, o.producer_version].filter(Boolean).join(' ') || '—'}</dd>
          <dt>Size</dt>
          <dd>{formatBytes(o.size_bytes)}</dd>
          <dt>SHA-256</dt>
          <dd className="mono">{o.sha256}</dd>
        </dl>
        <div>
          <table className="data-table" aria-label="ONNX inputs" style={{ width: '100%' }}>
            <thead>
              <tr>
                <th>Input</th>
                <th>Type</th>
                <th>Shape</th>
              </tr>
            </thead>
            <tbody>{tensorRows(o.inputs)}</tbody>
          </table>
          <table className="data-table" aria-label="ONNX outputs" style={{ width: '100%', marginTop: 10 }}>
            <thead>
              <tr>
                <th>Output</th>
                <th>Type</th>
                <th>Shape</th>
              </tr>
            </thead>
            <tbody>{tensorRows(o.outputs)}</tbody>
          </table>
        </div>
      </div>
    </section>
  );
}

function Upstream({ name, version }: { name: string; version: number }) {
  const node = `models:/${name}/${version}`;
  const g = useApi((signal) => get<Graph>('/lineage', { node, direction: 'up', depth: 3 }, signal), [node]);
  return (
    <section aria-label="Upstream lineage">
      <div className="row">
        <h2 className="grow">Where it came from</h2>
        <Link to={lineageHref(node, 'both', 3)}>Open in lineage</Link>
      </div>
      {g.error ? (
        <ErrorState error={g.error} retry={g.reload} />
      ) : !g.data ? (
        <Loading what="Loading lineage" />
      ) : g.data.nodes.length <= 1 ? (
        <Empty>No recorded upstream: the version names no source run, or the run logged no datasets.</Empty>
      ) : (
        <LineageGraph nodes={g.data.nodes} edges={g.data.edges} root={g.data.root} height={260} label="Upstream lineage graph" />
      )}
    </section>
  );
}

function Reproduce({ name, version }: { name: string; version: number }) {
  const r = useApi((signal) => get<ReproductionRecipe>(`/models/${enc(name)}/versions/${version}/reproduce`, undefined, signal), [name, version]);
  if (r.error) return <ErrorState error={r.error} retry={r.reload} />;
  if (!r.data) return <Loading what="Loading reproduction recipe" />;
  const x = r.data;
  const code = Object.entries(x.code).filter(([, val]) => val);
  const params = Object.entries(x.params);
  const runtime = Object.entries(x.environment.runtime);
  return (
    <div>
      {x.gaps.length > 0 ? (
        <div className="callout" role="note" aria-label="Gaps">
          <strong>Gaps for a faithful reproduction:</strong>
          <ul style={{ margin: '4px 0 0', paddingLeft: 18 }}>
            {x.gaps.map((g) => (
              <li key={g}>{g}</li>
            ))}
          </ul>
        </div>
      ) : (
        <div className="callout ok">Everything needed to reproduce this version was recorded.</div>
      )}
      <div className="grid2">
        <section className="card" aria-label="Code">
          <h2 style={{ marginTop: 0 }}>Code</h2>
          {x.run ? (
            <p>
              Run <Link to={runHref(x.run.run_id)}>{x.run.run_name || x.run.run_id}</Link> in experiment <Link to={`/experiments/${enc(x.run.experiment_id)}`}>{x.run.experiment_id}</Link>
            </p>
          ) : (
            <p className="muted">No source run.</p>
          )}
          {code.length === 0 ? (
            <span className="muted">No code recorded.</span>
          ) : (
            <dl className="kv">
              {code.map(([k, val]) => (
                <div key={k} style={{ display: 'contents' }}>
                  <dt>{k.replace(/_/g, ' ')}</dt>
                  <dd className="mono">{val}</dd>
                </div>
              ))}
            </dl>
          )}
        </section>
        <section className="card" aria-label="Params">
          <h2 style={{ marginTop: 0 }}>Params</h2>
          {params.length === 0 ? (
            <span className="muted">No params.</span>
          ) : (
            <dl className="kv">
              {params.map(([k, val]) => (
                <div key={k} style={{ display: 'contents' }}>
                  <dt className="mono">{k}</dt>
                  <dd className="mono">{val}</dd>
                </div>
              ))}
            </dl>
          )}
        </section>
      </div>
      <h2>Datasets</h2>
      {x.datasets.length === 0 ? (
        <p className="muted">No dataset inputs.</p>
      ) : (
        <table className="data-table" aria-label="Reproduce datasets" style={{ width: '100%' }}>
          <thead>
            <tr>
              <th>Name</th>
              <th>Context</th>
              <th>Kiln version</th>
              <th>Digest</th>
              <th>Source</th>
            </tr>
          </thead>
          <tbody>
            {x.datasets.map((d) => (
              <tr key={d.digest + d.name}>
                <td>{d.name}</td>
                <td>{d.context ?? '—'}</td>
                <td>{d.kiln_version ? <Link to={datasetVersionHref(d.kiln_version.name, d.kiln_version.version)}>{`${d.kiln_version.name}@v${d.kiln_version.version}`}</Link> : <span className="muted">not a Kiln dataset</span>}</td>
                <td className="mono">{d.digest.slice(0, 16)}</td>
                <td className="mono muted">{d.source}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Environment</h2>
      {runtime.length === 0 && !x.environment.requirements && !x.environment.conda && !x.environment.python_env ? (
        <p className="muted">No environment recorded.</p>
      ) : (
        <>
          {runtime.length > 0 && (
            <dl className="kv">
              {runtime.map(([k, val]) => (
                <div key={k} style={{ display: 'contents' }}>
                  <dt className="mono">{k}</dt>
                  <dd className="mono">{val}</dd>
                </div>
              ))}
            </dl>
          )}
          {x.environment.python_version && <p>Python {x.environment.python_version}</p>}
          {(['requirements', 'conda', 'python_env'] as const).map((k) =>
            x.environment[k] ? (
              <div key={k}>
                <h3 style={{ fontSize: 14 }}>{k}</h3>
                <pre>{x.environment[k]}</pre>
              </div>
            ) : null,
          )}
        </>
      )}
      {x.steps.length > 0 && (
        <>
          <h2>Steps</h2>
          <ol>
            {x.steps.map((s) => (
              <li key={s}>
                <code>{s}</code>
              </li>
            ))}
          </ol>
        </>
      )}
      <details style={{ marginTop: 12 }}>
        <summary>Raw JSON</summary>
        <pre>{JSON.stringify(x, null, 2)}</pre>
      </details>
    </div>
  );
}

function Promote({ v, onPromoted }: { v: ModelVersion; onPromoted: () => void }) {
  const [params, setParams] = useSearchParams();
  const policies = useApi(
    (signal) => get<{ policies: { alias: string; policy: Policy }[] }>(`/models/${enc(v.name)}/policies`, undefined, signal),
    [v.name],
  );
  const alias = params.get('alias') ?? '';
  const [reason, setReason] = useState('');
  const [dry, setDry] = useState<PromotionOutcome | null>(null);
  const [result, setResult] = useState<PromotionOutcome | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const setAlias = (a: string) => {
    setDry(null);
    setResult(null);
    setError(null);
    setParams(
      (p) => {
        if (a) p.set('alias', a);
        else p.delete('alias');
        return p;
      },
      { replace: true },
    );
  };
  const run = async (dryRun: boolean) => {
    setBusy(true);
    setError(null);
    try {
      const r = await post<PromotionOutcome>(`/models/${enc(v.name)}/versions/${v.version}/promote`, { alias, reason: reason || undefined, dry_run: dryRun });
      if (dryRun) {
        setDry(r);
        setResult(null);
      } else {
        setResult(r);
        onPromoted();
      }
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  const guarded = policies.data?.policies.map((p) => p.alias) ?? [];
  const policy = policies.data?.policies.find((p) => p.alias === alias)?.policy;
  const aliasOk = /^[A-Za-z0-9_-]+$/.test(alias);
  return (
    <div>
      <p className="muted">Promotion points an alias at this version through the alias&apos;s policy. Check the gates with a dry run first; nothing moves until you promote.</p>
      <form
        className="row"
        style={{ flexWrap: 'wrap' }}
        onSubmit={(e) => {
          e.preventDefault();
          if (aliasOk) void run(true);
        }}
      >
        <label className="row">
          Alias
          <input list="promote-aliases" aria-label="Alias" value={alias} onChange={(e) => setAlias(e.target.value.trim())} placeholder="production" style={{ width: 180 }} />
          <datalist id="promote-aliases">
            {guarded.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </label>
        {guarded.length > 0 && (
          <span className="muted">
            guarded:{' '}
            {guarded.map((a) => (
              <button type="button" key={a} className="badge alias" style={{ marginRight: 4, cursor: 'pointer' }} onClick={() => setAlias(a)}>
                @{a}
              </button>
            ))}
          </span>
        )}
        <input aria-label="Reason" value={reason} onChange={(e) => setReason(e.target.value)} placeholder="Reason (optional)" style={{ width: 260 }} />
        <button type="submit" disabled={!aliasOk || busy}>
          Check gates (dry run)
        </button>
      </form>
      {alias && policies.data && (
        <p className="muted">
          {policy
            ? `@${alias} is guarded by ${policy.rules.length} rule(s)${policy.require_data_validation ? ', validated training data' : ''}${policy.require_approval ? ' and an approval' : ''}.`
            : `@${alias} has no policy: promoting moves it directly.`}
        </p>
      )}
      {error && (
        <p className="error-text" role="alert">
          {error}
        </p>
      )}
      {busy && <Loading what="Evaluating the gates" />}
      {dry && !result && (
        <section className="card" aria-label="Dry run" style={{ marginTop: 12 }}>
          <div className="row">
            <h2 className="grow" style={{ margin: 0 }}>
              Dry run: would be <span className={`badge ${STATUS_CLASS[dry.status] ?? ''}`}>{dry.status}</span>
            </h2>
            <button className="primary" onClick={() => void run(false)} disabled={busy}>
              Promote v{v.version} to @{dry.alias}
            </button>
          </div>
          <p>{dry.message}</p>
          {dry.champion_version !== null && dry.champion_version !== undefined && <p className="muted">Current champion: v{dry.champion_version}</p>}
          <Gates gates={dry.gates} label="Dry run gates" />
        </section>
      )}
      {result && (
        <section className={`callout ${result.status === 'PROMOTED' ? 'ok' : result.status === 'REJECTED' ? 'bad' : ''}`} aria-label="Promotion result" role="status" style={{ marginTop: 12 }}>
          <h2 style={{ marginTop: 0 }}>
            <span className={`badge ${STATUS_CLASS[result.status] ?? ''}`}>{result.status}</span> {result.message}
          </h2>
          {result.status === 'PENDING_APPROVAL' && (
            <p>
              Waiting for another user to approve: see <Link to={`${modelHref(v.name)}?tab=promotions`}>promotions</Link>.
            </p>
          )}
          <Gates gates={result.gates} label="Promotion gates" />
        </section>
      )}
    </div>
  );
}
