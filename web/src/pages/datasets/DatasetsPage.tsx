import { Link } from 'react-router-dom';
import { enc, get } from '../../lib/api';
import { formatAgo, formatTime } from '../../lib/format';
import { useApi } from '../../lib/useApi';
import { Empty, ErrorState, Loading, Snippet } from '../../components/States';
import { SearchBox, useUrlQuery } from '../../components/UrlState';
import type { Dataset } from '../../../../src/data/schemas';
import '../models/registry.css';

const ADD = `kiln data add weather.csv --name weather --tracking-uri ${window.location.origin}`;

/** Versioned datasets: name, versions, latest version, last update; search by name (kept in the URL). */
export default function DatasetsPage() {
  const [q, setQ] = useUrlQuery();
  const list = useApi((signal) => get<{ datasets: Dataset[] }>('/datasets', { name_like: q ? `%${q}%` : undefined, max_results: 500 }, signal), [q]);
  return (
    <div>
      <div className="row" style={{ marginBottom: 12 }}>
        <h1 className="grow" style={{ margin: 0 }}>
          Datasets
        </h1>
        <SearchBox value={q} onChange={setQ} label="Search datasets" />
      </div>
      {list.error ? (
        <ErrorState error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Loading what="Loading datasets" />
      ) : list.data.datasets.length === 0 ? (
        q ? (
          <Empty>No datasets match.</Empty>
        ) : (
          <div>
            <Empty>No datasets yet. Add a version of a file or folder:</Empty>
            <Snippet code={ADD} label="Add dataset snippet" />
          </div>
        )
      ) : (
        <table className="data-table" style={{ width: '100%' }}>
          <thead>
            <tr>
              <th>Name</th>
              <th>Latest version</th>
              <th className="num">Versions</th>
              <th>Description</th>
              <th>Last updated</th>
            </tr>
          </thead>
          <tbody>
            {list.data.datasets.map((d) => (
              <tr key={d.name}>
                <td>
                  <Link to={`/datasets/${enc(d.name)}`}>{d.name}</Link>
                </td>
                <td>
                  <Link to={`/datasets/${enc(d.name)}/versions/${d.latest_version}`}>v{d.latest_version}</Link>
                </td>
                <td className="num">{d.version_count}</td>
                <td className="muted">{d.description || '—'}</td>
                <td title={formatTime(d.last_update_time)}>{formatAgo(d.last_update_time)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
