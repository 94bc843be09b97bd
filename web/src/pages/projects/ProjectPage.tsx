import { useEffect, useState, type FormEvent } from 'react';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { del, enc, get, patch, put } from '../../lib/api';
import { formatAgo, formatTime } from '../../lib/format';
import { useApi } from '../../lib/useApi';
import { canManage, projectsChanged, useProject, type Project, type Role } from '../../lib/project';
import { ActionError, Empty, ErrorState, Loading } from '../../components/States';
import { useAction } from '../../lib/useAction';
import { RoleOptions } from '../../components/RoleOptions';
import type { Member } from '../../../../packages/sdk/src/contract/project-schemas';

const memberPath = (project: string, m: { kind: string; name: string }) => `/projects/${enc(project)}/members/${enc(m.kind)}/${enc(m.name)}`;

/**
 * One project: its description, the role everyone signed in has, its members and their roles. Only owners (and
 * admins) change them: for anyone else, as the role the API reports says, the controls are disabled (the server
 * refuses such changes anyway).
 */
export default function ProjectPage() {
  const name = useParams().name!;
  const navigate = useNavigate();
  const chosen = useProject();
  const project = useApi(async (signal) => (await get<{ project: Project }>(`/projects/${enc(name)}`, undefined, signal)).project, [name]);
  const members = useApi(async (signal) => (await get<{ members: Member[] }>(`/projects/${enc(name)}/members`, undefined, signal)).members, [name]);
  const [description, setDescription] = useState('');
  const [kind, setKind] = useState<'user' | 'group'>('user');
  const [member, setMember] = useState('');
  const [role, setRole] = useState<Role>('viewer');
  const { busy, error, run } = useAction();
  const p = project.data;
  useEffect(() => setDescription(p?.description ?? ''), [p]);

  if (project.error) return <ErrorState error={project.error} retry={project.reload} />;
  if (!p) return <Loading what="Loading the project" />;
  const manage = canManage(p.role);
  const locked = !manage || busy !== null;

  const act = (
    key: string,
    fn: () => Promise<unknown>,
    after: () => void = () => {
      members.reload();
      project.reload();
    },
  ) =>
    run(key, fn).then((ok) => {
      if (ok) after();
      return ok;
    });
  const saveDescription = (e: FormEvent) => {
    e.preventDefault();
    void act('description', () => patch(`/projects/${enc(name)}`, { description: description.trim() === '' ? null : description }), project.reload);
  };
  const setEveryone = (v: string) => void act('everyone', () => patch(`/projects/${enc(name)}`, { everyone_role: v === '' ? null : v }), project.reload);
  const add = (e: FormEvent) => {
    e.preventDefault();
    void act('add', () => put(memberPath(name, { kind, name: member.trim() }), { role })).then((ok) => ok && setMember(''));
  };
  const change = (m: Member, r: Role) => void act(`${m.kind}:${m.name}`, () => put(memberPath(name, m), { role: r }));
  const remove = (m: Member) => {
    if (window.confirm(`Remove the ${m.kind} "${m.name}" from ${name}?`)) void act(`${m.kind}:${m.name}`, () => del(memberPath(name, m)));
  };
  const removeProject = () => {
    if (!window.confirm(`Delete the project "${name}"? Only an empty project can be deleted.`)) return;
    void act('delete', () => del(`/projects/${enc(name)}`), () => {
      if (chosen.project === name) chosen.setProject(null);
      projectsChanged();
      void navigate('/projects');
    });
  };

  return (
    <div className="narrow-page">
      <div className="row">
        <h1 className="grow">
          <Link to="/projects">Projects</Link> / {p.name}
        </h1>
        <span className="muted">
          Your role: <span className="badge">{p.role ?? '—'}</span>
        </span>
        <Link className="button" to={`/experiments?project=${enc(p.name)}`}>
          Experiments
        </Link>
        <Link className="button" to={`/models?project=${enc(p.name)}`}>
          Models
        </Link>
      </div>
      {!manage && <p className="muted">Only the project’s owners change its settings and members.</p>}
      <form className="card form-row" onSubmit={saveDescription} aria-label="Project settings">
        <label className="field grow">
          <span>Description</span>
          <input name="description" maxLength={5000} disabled={!manage} value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <button type="submit" disabled={locked || description === (p.description ?? '')}>
          Save description
        </button>
        <label className="field">
          <span>Everyone signed in</span>
          <select aria-label="Everyone's role" disabled={locked} value={p.everyone_role ?? ''} onChange={(e) => setEveryone(e.target.value)}>
            <option value="">members only</option>
            <RoleOptions />
          </select>
        </label>
        <span className="muted">
          Created <span title={formatTime(p.creation_time)}>{formatAgo(p.creation_time)}</span> by {p.created_by}
        </span>
      </form>
      <ActionError error={error} />
      <h2>Members</h2>
      <form className="form-row" onSubmit={add} aria-label="Add a member">
        <label className="field">
          <span>Kind</span>
          <select name="member-kind" disabled={locked} value={kind} onChange={(e) => setKind(e.target.value as 'user' | 'group')}>
            <option value="user">user</option>
            <option value="group">group</option>
          </select>
        </label>
        <label className="field">
          <span>{kind === 'user' ? 'User name' : 'Group name'}</span>
          <input name="member-name" required maxLength={256} disabled={locked} value={member} onChange={(e) => setMember(e.target.value)} />
        </label>
        <label className="field">
          <span>Role</span>
          <select name="member-role" disabled={locked} value={role} onChange={(e) => setRole(e.target.value as Role)}>
            <RoleOptions />
          </select>
        </label>
        <button className="primary" type="submit" disabled={locked || member.trim() === ''}>
          Add member
        </button>
      </form>
      {members.error ? (
        <ErrorState error={members.error} retry={members.reload} />
      ) : !members.data ? (
        <Loading what="Loading members" />
      ) : members.data.length === 0 ? (
        <Empty>No members{p.everyone_role ? `; everyone signed in is ${p.everyone_role === 'owner' || p.everyone_role === 'editor' ? 'an' : 'a'} ${p.everyone_role}` : ''}.</Empty>
      ) : (
        <table className="data-table full" aria-label="Members">
          <thead>
            <tr>
              <th>Name</th>
              <th>Kind</th>
              <th>Role</th>
              <th>Since</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {members.data.map((m) => (
              <tr key={`${m.kind}:${m.name}`} aria-label={`${m.kind} ${m.name}`}>
                <td>{m.name}</td>
                <td>{m.kind}</td>
                <td>
                  <select aria-label={`Role of ${m.name}`} disabled={locked} value={m.role} onChange={(e) => change(m, e.target.value as Role)}>
                    <RoleOptions />
                  </select>
                </td>
                <td title={formatTime(m.creation_time)}>{formatAgo(m.creation_time)}</td>
                <td className="actions">
                  <button disabled={locked} onClick={() => remove(m)} aria-label={`Remove ${m.name}`}>
                    Remove
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {manage && p.name !== 'default' && (
        <>
          <h2>Delete</h2>
          <p className="muted">A project is deleted only once it holds no experiments, models or datasets.</p>
          <button disabled={busy !== null} onClick={removeProject}>
            Delete project
          </button>
        </>
      )}
    </div>
  );
}
