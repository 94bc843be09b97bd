import { useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router-dom';
import { enc, get, post } from '../../lib/api';
import { useApi } from '../../lib/useApi';
import { useAction } from '../../lib/useAction';
import { ActionError } from '../../components/States';
import type { ModelVersion, RegisteredModel } from '../../../../src/registry/schemas';
import { deploymentHref, deploymentName, type Deployment } from '../deployments/serving';

/** Why a version cannot be deployed (null: it can): only READY, servable versions are served. */
export function notDeployable(v: ModelVersion): string | null {
  if (v.status !== 'READY') return `Only READY versions can be deployed (this one is ${v.status}).`;
  if (!v.servable) return `Not servable: ${v.package?.not_servable_reason ?? 'Kiln serves ONNX models whose signature matches.'}`;
  return null;
}

/** The page head's Deploy button: disabled, with the reason as its tooltip, for a version that cannot be served. */
export function DeployButton({ v, open, onOpen }: { v: ModelVersion; open: boolean; onOpen: () => void }) {
  const why = notDeployable(v);
  return (
    <button className="primary" onClick={onOpen} disabled={why !== null || open} title={why ?? `Serve ${v.name} v${v.version} behind a deployment`}>
      Deploy
    </button>
  );
}

/**
 * Creates a deployment of this version: a name (the model's, sanitised, by default) and what it follows, this very
 * version or one of the model's aliases (the deployment then rolls forward when the alias moves). Opens the new
 * deployment's page.
 */
export function DeployForm({ v, onCancel }: { v: ModelVersion; onCancel: () => void }) {
  const navigate = useNavigate();
  const model = useApi((signal) => get<{ model: RegisteredModel }>(`/models/${enc(v.name)}`, undefined, signal).then((r) => r.model), [v.name]);
  const [name, setName] = useState(() => deploymentName(v.name));
  const [follow, setFollow] = useState(`models:/${v.name}/${v.version}`);
  const { busy, error, run } = useAction();
  const aliases = Object.entries(model.data?.aliases ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const nameOk = /^[A-Za-z0-9._-]{1,128}$/.test(name);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    let created: Deployment | undefined;
    void run('deploy', async () => {
      created = (await post<{ deployment: Deployment }>('/deployments', { name, model: follow, reason: `deployed from ${v.name} v${v.version} in the web UI` })).deployment;
    }).then((ok) => ok && created && void navigate(deploymentHref(created.name)));
  };
  return (
    <form className="card deploy-form" aria-label="Deploy this version" onSubmit={submit}>
      <div className="form-row">
        <label className="field">
          <span>Deployment name</span>
          <input name="deployment-name" required maxLength={128} value={name} onChange={(e) => setName(e.target.value)} aria-invalid={!nameOk} />
        </label>
        <label className="field">
          <span>Follow</span>
          <select name="deployment-follow" value={follow} onChange={(e) => setFollow(e.target.value)}>
            <option value={`models:/${v.name}/${v.version}`}>this version (v{v.version})</option>
            {aliases.map(([a, n]) => (
              <option key={a} value={`models:/${v.name}@${a}`}>
                @{a} (now v{n}; follows it when it moves)
              </option>
            ))}
          </select>
        </label>
        <button className="primary" type="submit" disabled={!nameOk || busy !== null}>
          {busy ? 'Deploying…' : 'Create deployment'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
      <p className="muted">
        Serves <code>{follow}</code>
        {nameOk && (
          <>
            {' '}
            at <code>/v2/models/{name}/infer</code>
          </>
        )}
        . Letters, digits, &apos;.&apos;, &apos;_&apos; and &apos;-&apos; in the name.
      </p>
      <ActionError error={error} />
    </form>
  );
}
