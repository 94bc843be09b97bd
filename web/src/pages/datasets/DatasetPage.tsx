import { Link, useParams } from 'react-router-dom';
import { enc, get } from '../../lib/api';
import { formatAgo, formatBytes, formatTime } from '../../lib/format';
import { useApi } from '../../lib/useApi';
import { Empty, ErrorState, Loading } from '../../components/States';
import { lineageHref } from '../../logic/lineage-layout';
import type { Dataset, DatasetVersion } from '../../../../src/data/schemas';
import '../models/registry.css';

/** A dataset: its versions, newest first, with rows, size and digest. */
export default function DatasetPage() {
  const { name = '' } = useParams();
  const d = useApi(
    async (signal) => {
      const [ds, vs] = await Promise.all([
        get<{ dataset: Dataset }>(`/datasets/${enc(name)}`, undefined, signal),
        get<{ versions: DatasetVersion[] }>(`/datasets/${enc(name)}/versions`, { max_results: 500 }, signal),
      ]);
      return { dataset: ds.dataset, versions: vs.versions };
    },
    [name],
  );
  if (d.error) return <ErrorState error={d.error} retry={d.reload} />;
  if (!d.data) return <Loading what="Loading dataset" />;
  const { dataset, versions } = d.data;
  return (
    <div>
      <div className="crumbs">
        <Link to="/datasets">Datasets</Link> /
      </div>
      <div className="page-head">
        <h1>{dataset.name}</h1>
        <span className="badge">{dataset.version_count} versions</span>
        <span className="grow" />
        <span className="muted">
          updated {formatAgo(dataset.last_update_time)}
          {dataset.user_id ? ` · created by ${dataset.user_id}` : ''}
        </span>
      </div>
      {dataset.description && <p>{dataset.description}</p>}
      {versions.length === 0 ? (
        <Empty>No versions.</Empty>
      ) : (
        <table className="data-table" style={{ width: '100%' }} aria-label="Dataset versions">
          <thead>
            <tr>
              <th>Version</th>
              <th>Format</th>
              <th className="num">Rows</th>
              <th className="num">Size</th>
              <th>Files</th>
              <th>Digest</th>
              <th>Source</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr key={v.version}>
                <td>
                  <Link to={`/datasets/${enc(name)}/versions/${v.version}`}>v{v.version}</Link>
                </td>
                <td>{v.format}</td>
                <td className="num">{v.rows.toLocaleString()}</td>
                <td className="num">{formatBytes(v.bytes)}</td>
                <td>{v.files.length}</td>
                <td className="mono muted" title={v.digest}>
                  {v.digest.slice(0, 12)}
                </td>
                <td className="mono muted">{v.source ?? '—'}</td>
                <td title={formatTime(v.creation_time)}>{formatAgo(v.creation_time)}</td>
                <td>
                  <Link to={lineageHref(`datasets:/${name}/${v.version}`, 'down')}>lineage</Link>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
