import { useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import { apiUrl, enc, get } from '../../lib/api';
import { formatBytes } from '../../lib/format';
import { useApi } from '../../lib/useApi';
import { Empty, ErrorState, Loading } from '../../components/States';
import { parseCsv } from '../../logic/csv';
import type { ArtifactListing } from '../../../../src/platform/http/schemas';
import type { OnnxInfo, OnnxTensor } from '../../../../src/registry/schemas';

type Entry = ArtifactListing['files'][number];

const TEXT_MAX = 1024 * 1024;
const IMAGE = /\.(png|jpe?g|gif|webp|svg|bmp)$/i;
const TEXT = /(\.(txt|log|ya?ml|py|md|cfg|ini|toml|sh|r|sql|ts|js|html|xml|properties|requirements)|^MLmodel|^requirements\.txt|^conda\.yaml|^python_env\.yaml|^Dockerfile|^LICENSE)$/i;

const baseName = (p: string) => p.slice(p.lastIndexOf('/') + 1);
const downloadUrl = (runId: string, path: string) => apiUrl(`/runs/${enc(runId)}/artifacts/${path.split('/').map(enc).join('/')}`);
type Kind = 'onnx' | 'image' | 'json' | 'csv' | 'tsv' | 'mlmodel' | 'text' | 'none';
function kindOf(path: string): Kind {
  const b = baseName(path);
  if (/\.onnx$/i.test(b)) return 'onnx';
  if (IMAGE.test(b)) return 'image';
  if (/\.json$/i.test(b)) return 'json';
  if (/\.csv$/i.test(b)) return 'csv';
  if (/\.tsv$/i.test(b)) return 'tsv';
  if (b === 'MLmodel') return 'mlmodel';
  if (TEXT.test(b) || !b.includes('.')) return 'text';
  return 'none';
}

/** The run's artifacts as a tree; the selected file (kept in the URL as ?file=) is previewed beside it. */
export function ArtifactsTab({ runId }: { runId: string }) {
  const [params, setParams] = useSearchParams();
  const file = params.get('file');
  const [sizes, setSizes] = useState<Record<string, number | undefined>>({});
  const select = (e: Entry) => {
    setSizes((s) => ({ ...s, [e.path]: e.size }));
    setParams((p) => {
      p.set('file', e.path);
      return p;
    });
  };
  return (
    <div style={{ display: 'grid', gridTemplateColumns: 'minmax(260px, 320px) 1fr', gap: 16, alignItems: 'start' }}>
      <div className="card" style={{ padding: 8 }}>
        <ul className="tree" role="tree" aria-label="Artifacts">
          <Folder runId={runId} path="" selected={file} onSelect={select} root />
        </ul>
      </div>
      <div style={{ minWidth: 0 }}>{file ? <Preview runId={runId} path={file} size={sizes[file]} /> : <Empty>Choose a file to preview it.</Empty>}</div>
    </div>
  );
}

function Folder({ runId, path, selected, onSelect, root }: { runId: string; path: string; selected: string | null; onSelect: (e: Entry) => void; root?: boolean }) {
  const list = useApi((signal) => get<{ files: Entry[] }>(`/runs/${enc(runId)}/artifacts`, { path: path || undefined }, signal), [runId, path]);
  if (list.error) return <li className="error-text">{list.error.message}</li>;
  if (!list.data) return <li className="muted">Loading…</li>;
  const files = [...list.data.files].sort((a, b) => Number(b.is_dir) - Number(a.is_dir) || a.path.localeCompare(b.path));
  if (files.length === 0) return <li className="muted">{root ? 'No artifacts logged.' : 'Empty folder.'}</li>;
  return (
    <>
      {files.map((f) => (f.is_dir ? <Dir key={f.path} runId={runId} entry={f} selected={selected} onSelect={onSelect} /> : <FileItem key={f.path} entry={f} selected={selected === f.path} onSelect={onSelect} />))}
    </>
  );
}

function Dir({ runId, entry, selected, onSelect }: { runId: string; entry: Entry; selected: string | null; onSelect: (e: Entry) => void }) {
  const [open, setOpen] = useState(() => !!selected && selected.startsWith(`${entry.path}/`));
  return (
    <li role="treeitem" aria-expanded={open}>
      <button className="tree-item" onClick={() => setOpen(!open)}>
        {open ? '▾' : '▸'} {baseName(entry.path)}/
      </button>
      {open && (
        <ul role="group" className="tree">
          <Folder runId={runId} path={entry.path} selected={selected} onSelect={onSelect} />
        </ul>
      )}
    </li>
  );
}

function FileItem({ entry, selected, onSelect }: { entry: Entry; selected: boolean; onSelect: (e: Entry) => void }) {
  return (
    <li role="treeitem" aria-selected={selected}>
      <button className={selected ? 'tree-item selected' : 'tree-item'} onClick={() => onSelect(entry)}>
        {baseName(entry.path)} <span className="muted">{formatBytes(entry.size)}</span>
      </button>
    </li>
  );
}

function Preview({ runId, path, size }: { runId: string; path: string; size: number | undefined }) {
  const kind = kindOf(path);
  const url = downloadUrl(runId, path);
  return (
    <div className="card" aria-label={`Preview of ${path}`}>
      <div className="row" style={{ marginBottom: 8 }}>
        <strong className="mono grow" style={{ wordBreak: 'break-all' }}>
          {path}
        </strong>
        {size !== undefined && <span className="muted">{formatBytes(size)}</span>}
        <a href={url} download={baseName(path)}>
          Download
        </a>
      </div>
      {kind === 'image' ? (
        <img src={url} alt={path} style={{ maxWidth: '100%', maxHeight: 600, background: 'repeating-conic-gradient(var(--bg-soft) 0% 25%, var(--bg) 0% 50%) 50% / 16px 16px' }} />
      ) : kind === 'onnx' ? (
        <OnnxPreview runId={runId} path={path} />
      ) : kind === 'none' ? (
        <Empty>No preview for this kind of file; download it.</Empty>
      ) : size !== undefined && size > TEXT_MAX ? (
        <Empty>Too large to preview ({formatBytes(size)}); download it.</Empty>
      ) : (
        <TextPreview url={url} kind={kind} />
      )}
    </div>
  );
}

function TextPreview({ url, kind }: { url: string; kind: Kind }) {
  const text = useApi(
    async (signal) => {
      const res = await fetch(url, { signal });
      if (!res.ok) throw new Error(`Could not read the file (HTTP ${res.status})`);
      const len = Number(res.headers.get('content-length') ?? 0);
      if (len > TEXT_MAX) {
        void res.body?.cancel();
        throw new Error(`Too large to preview (${formatBytes(len)}); download it.`);
      }
      return res.text();
    },
    [url],
  );
  if (text.error) return <ErrorState error={text.error} />;
  if (text.data === undefined) return <Loading what="Loading preview" />;
  const t = text.data;
  if (kind === 'json') {
    try {
      return <pre className="preview">{JSON.stringify(JSON.parse(t), null, 2)}</pre>;
    } catch {
      return <pre className="preview">{t}</pre>;
    }
  }
  if (kind === 'csv' || kind === 'tsv') return <CsvTable text={t} sep={kind === 'tsv' ? '\t' : ','} />;
  if (kind === 'mlmodel') return <MLmodelView text={t} />;
  return <pre className="preview">{t}</pre>;
}

function CsvTable({ text, sep }: { text: string; sep: string }) {
  const { rows, truncated } = parseCsv(text, 501, sep);
  const [head, ...body] = rows;
  if (!head) return <Empty>Empty file.</Empty>;
  return (
    <div>
      <div className="table-wrap" style={{ maxHeight: 520 }}>
        <table className="data-table" aria-label="CSV preview">
          <thead>
            <tr>
              {head.map((h, i) => (
                <th key={i}>{h}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {body.map((r, i) => (
              <tr key={i}>
                {r.map((c, j) => (
                  <td key={j} className="mono">
                    {c}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="muted" style={{ marginTop: 6 }}>
        {body.length} rows shown{truncated ? ' (first 500; download for the rest)' : ''}
      </div>
    </div>
  );
}

/** The MLmodel YAML with the flavour names under `flavors:` highlighted. */
function MLmodelView({ text }: { text: string }) {
  const lines = text.split('\n');
  const flavors: string[] = [];
  let inFlavors = false;
  const out = lines.map((line, i) => {
    if (/^\S/.test(line)) inFlavors = /^flavors:\s*$/.test(line);
    const m = inFlavors ? /^ {2}([A-Za-z0-9_.-]+):\s*$/.exec(line) : null;
    if (m) {
      flavors.push(m[1]!);
      return (
        <div key={i}>
          {'  '}
          <mark className="flavor">{m[1]}</mark>:
        </div>
      );
    }
    return <div key={i}>{line || '\u00a0'}</div>;
  });
  return (
    <div>
      <div style={{ marginBottom: 8 }}>
        Flavors:{' '}
        {flavors.length ? (
          flavors.map((f) => (
            <span key={f} className="badge" style={{ marginRight: 4 }}>
              {f}
            </span>
          ))
        ) : (
          <span className="muted">none</span>
        )}
      </div>
      <pre className="preview">{out}</pre>
    </div>
  );
}

function OnnxPreview({ runId, path }: { runId: string; path: string }) {
  const info = useApi((signal) => get<OnnxInfo>(`/runs/${enc(runId)}/artifacts-onnx`, { path }, signal), [runId, path]);
  if (info.error) return <ErrorState error={info.error} retry={info.reload} />;
  if (!info.data) return <Loading what="Inspecting the ONNX model" />;
  const d = info.data;
  const shape = (s: OnnxTensor['shape']) => `[${s.map((x) => (x === null ? '?' : String(x))).join(', ')}]`;
  const table = (label: string, ts: OnnxTensor[]) => (
    <table className="data-table" aria-label={label} style={{ marginBottom: 12 }}>
      <thead>
        <tr>
          <th>Name</th>
          <th>Type</th>
          <th>Shape</th>
        </tr>
      </thead>
      <tbody>
        {ts.map((t) => (
          <tr key={t.name}>
            <td className="mono">{t.name}</td>
            <td className="mono">{t.type}</td>
            <td className="mono">{shape(t.shape)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
  return (
    <div>
      <div className="muted" style={{ marginBottom: 8 }}>
        IR {d.ir_version} · opset {d.opset.map((o) => `${o.domain || 'ai.onnx'} ${o.version}`).join(', ')}
        {d.producer_name ? ` · ${d.producer_name}` : ''}
        {d.graph_name ? ` · graph ${d.graph_name}` : ''}
      </div>
      {d.doc_string && <p>{d.doc_string}</p>}
      <h2 style={{ marginTop: 0 }}>Inputs</h2>
      {table('ONNX inputs', d.inputs)}
      <h2>Outputs</h2>
      {table('ONNX outputs', d.outputs)}
    </div>
  );
}
