import { Fragment, useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router-dom';
import { apiUrl, enc, get } from '../../lib/api';
import { formatTime } from '../../lib/format';
import { usePoll } from '../../lib/usePoll';
import { Loading } from '../../components/States';
import { formatMs, type PayloadRecord } from './serving';

const NEWEST = 20;
/** The payload log is asked again this often while the page is visible (records are written in batches within ~200 ms). */
const PAYLOADS_INTERVAL_MS = 3000;

function Agreement({ p }: { p: PayloadRecord }) {
  if (!p.shadow) return <span className="muted">—</span>;
  if (p.shadow.agrees === null) return <span className="muted">shadow v{p.shadow.version}: no answer</span>;
  return p.shadow.agrees ? <span className="agree-yes">agrees (v{p.shadow.version})</span> : <span className="agree-no">differs (v{p.shadow.version})</span>;
}

function Detail({ p }: { p: PayloadRecord }) {
  return (
    <tr className="payload-detail">
      <td colSpan={7}>
        <div className="grid2">
          <div>
            <h3>Inputs</h3>
            <pre aria-label={`Inputs of ${p.request_id}`}>{JSON.stringify(p.inputs, null, 2)}</pre>
          </div>
          <div>
            <h3>Outputs</h3>
            {p.error ? (
              <pre className="error-text">{p.error}</pre>
            ) : (
              <pre aria-label={`Outputs of ${p.request_id}`}>{JSON.stringify(p.outputs, null, 2)}</pre>
            )}
            {p.shadow && (
              <>
                <h3>Shadow v{p.shadow.version} outputs</h3>
                <pre>{JSON.stringify(p.shadow.outputs, null, 2)}</pre>
              </>
            )}
          </div>
        </div>
        <span className="muted">
          {p.model} v{p.version} over {p.protocol}
        </span>
      </td>
    </tr>
  );
}

/** The newest records of the payload log (or one request's, by id), each expandable to its inputs and outputs; exports of every record. */
export function Payloads({ name }: { name: string }) {
  const [params, setParams] = useSearchParams();
  const requestId = params.get('request_id') ?? '';
  const [draft, setDraft] = useState(requestId);
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const payloads = usePoll(
    (signal) => get<{ payloads: PayloadRecord[] }>(`/deployments/${enc(name)}/payloads`, { max_results: NEWEST, request_id: requestId }, signal),
    PAYLOADS_INTERVAL_MS,
    [name, requestId],
  );
  const search = (e: FormEvent) => {
    e.preventDefault();
    const id = draft.trim();
    setParams(
      (p) => {
        if (id) p.set('request_id', id);
        else p.delete('request_id');
        return p;
      },
      { replace: true },
    );
  };
  const toggle = (id: string) =>
    setOpen((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });
  const rows = payloads.data?.payloads;
  const path = `/deployments/${enc(name)}/payloads`;
  return (
    <section className="deploy-section" aria-labelledby="recent-payloads">
      <div className="panel-head">
        <h2 id="recent-payloads">Recent payloads</h2>
        <form className="row" role="search" aria-label="Search payloads" onSubmit={search}>
          <input type="search" aria-label="Request id" placeholder="Request id" value={draft} onChange={(e) => setDraft(e.target.value)} />
          <button type="submit">Search</button>
        </form>
        <a className="button" href={apiUrl(path, { format: 'jsonl' })} download={`${name}-payloads.jsonl`}>
          Download JSONL
        </a>
        <a className="button" href={apiUrl(path, { format: 'parquet' })} download={`${name}-payloads.parquet`}>
          Download Parquet
        </a>
      </div>
      {payloads.error && (
        <p className="error-text" role="alert">
          {payloads.error.message}
        </p>
      )}
      {!rows ? (
        !payloads.error && <Loading what="Loading payloads" />
      ) : rows.length === 0 ? (
        <p className="muted">{requestId ? `No payload with the request id ${requestId}.` : 'No payloads logged yet (the log keeps the share of requests its sample rate says).'}</p>
      ) : (
        <table className="data-table full" aria-label="Payloads">
          <thead>
            <tr>
              <th />
              <th>Time</th>
              <th>Request id</th>
              <th>Version</th>
              <th className="num">Status</th>
              <th className="num">Latency</th>
              <th>Shadow</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((p) => {
              const expanded = open.has(p.request_id);
              return (
                <Fragment key={p.request_id}>
                  <tr>
                    <td>
                      <button aria-expanded={expanded} aria-label={`${expanded ? 'Hide' : 'Show'} payload ${p.request_id}`} onClick={() => toggle(p.request_id)}>
                        {expanded ? '▾' : '▸'}
                      </button>
                    </td>
                    <td className="nowrap">{formatTime(p.time)}</td>
                    <td className="mono">{p.request_id}</td>
                    <td>
                      {p.model}/{p.version}
                    </td>
                    <td className={`num ${p.status >= 400 ? 'agree-no' : ''}`}>{p.status}</td>
                    <td className="num">{formatMs(p.latency_ms)}</td>
                    <td>
                      <Agreement p={p} />
                    </td>
                  </tr>
                  {expanded && <Detail p={p} />}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
