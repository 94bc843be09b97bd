import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { enc, post } from '../../lib/api';
import { formatAgo, formatTime } from '../../lib/format';
import { projectsChanged, useProjects, type Project, type Role } from '../../lib/project';
import { ActionError, Empty, ErrorState, Loading } from '../../components/States';
import { useAction } from '../../lib/useAction';
import { RoleOptions } from '../../components/RoleOptions';

/** The caller's projects with its role in each; create a project (its creator owns it). */
export default function ProjectsPage() {
  const list = useProjects();
  const navigate = useNavigate();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [everyone, setEveryone] = useState<Role | ''>('');
  const { busy, error, run } = useAction();

  const create = (e: FormEvent) => {
    e.preventDefault();
    void run('create', async () => {
      const made = await post<{ project: Project }>('/projects', { name: name.trim(), ...(description.trim() ? { description: description.trim() } : {}), ...(everyone ? { everyone_role: everyone } : {}) });
      projectsChanged();
      void navigate(`/projects/${enc(made.project.name)}`);
    });
  };

  return (
    <div className="narrow-page">
      <h1>Projects</h1>
      <form className="card form-row" onSubmit={create} aria-label="Create a project">
        <label className="field">
          <span>Name</span>
          <input name="project-name" required maxLength={64} placeholder="lower-case, digits, . _ -" value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label className="field grow">
          <span>Description</span>
          <input name="project-description" maxLength={5000} value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <label className="field">
          <span>Everyone signed in</span>
          <select name="project-everyone" value={everyone} onChange={(e) => setEveryone(e.target.value as Role | '')}>
            <option value="">members only</option>
            <RoleOptions />
          </select>
        </label>
        <button className="primary" type="submit" disabled={busy !== null || name.trim() === ''}>
          Create project
        </button>
      </form>
      <ActionError error={error} />
      {list.error ? (
        <ErrorState error={list.error} retry={list.reload} />
      ) : !list.data ? (
        <Loading what="Loading projects" />
      ) : list.data.length === 0 ? (
        <Empty>You are in no project yet. Create one, or ask a project’s owner to add you.</Empty>
      ) : (
        <table className="data-table full" aria-label="Projects">
          <thead>
            <tr>
              <th>Name</th>
              <th>Your role</th>
              <th>Everyone</th>
              <th>Description</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {list.data.map((p) => (
              <tr key={p.name} aria-label={p.name}>
                <td>
                  <Link to={`/projects/${enc(p.name)}`}>{p.name}</Link>
                </td>
                <td>{p.role ? <span className="badge">{p.role}</span> : <span className="muted">—</span>}</td>
                <td>{p.everyone_role ?? <span className="muted">members only</span>}</td>
                <td className="muted">{p.description || '—'}</td>
                <td title={formatTime(p.creation_time)}>
                  {formatAgo(p.creation_time)} <span className="muted">by {p.created_by}</span>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
