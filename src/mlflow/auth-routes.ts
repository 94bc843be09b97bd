import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { GovernanceService, User } from '../governance/service.js';
import { checkPermission, type Grant, type GrantKind } from '../governance/grants.js';
import type { TrackingService } from '../tracking/service.js';
import type { RegistryService } from '../registry/service.js';
import { KilnError, invalid } from '../platform/errors.js';
import { hasScope, type Principal } from '../platform/auth/principal.js';
import { rule, type ResourceKind, type RouteRule } from '../platform/auth/rules.js';
import { Fields, badType } from './fields.js';

export interface MlflowAuthDeps {
  readonly governance: GovernanceService;
  readonly tracking: TrackingService;
  readonly registry: RegistryService;
}

/**
 * Where MLflow's auth app reads a request's fields: the query string of a GET, the JSON body otherwise (its client
 * sends DELETE requests with a JSON body; a DELETE without one is read from its query string).
 */
const source = (req: FastifyRequest): { readonly fields: unknown; readonly query: boolean } => {
  if (req.method === 'GET') return { fields: req.query, query: true };
  if (req.method === 'DELETE' && !(req.body && typeof req.body === 'object' && Object.keys(req.body).length > 0)) return { fields: req.query, query: true };
  return { fields: req.body, query: false };
};
const fields = (req: FastifyRequest) => {
  const s = source(req);
  return new Fields(s.fields, s.query);
};
/** The route rule's view of one field, read where the handler reads it. */
const field = (name: string) => (req: FastifyRequest): unknown => {
  const { fields: f, query } = source(req);
  if (f === null || typeof f !== 'object' || Array.isArray(f)) return undefined;
  const v = (f as Record<string, unknown>)[name];
  return query && Array.isArray(v) ? v[v.length - 1] : v;
};

const PERMISSION_DENIED = () => new KilnError('PERMISSION_DENIED', 'Permission denied');

/** MLflow's JSON of a grant: an ExperimentPermission or a RegisteredModelPermission. */
const experimentPermission = (g: Grant) => ({ experiment_id: g.resourceId, user_id: g.userPk, permission: g.permission });
const registeredModelPermission = (g: Grant) => ({ name: g.resourceId, user_id: g.userPk, permission: g.permission });

/** MLflow's JSON of a user, with its grants (scorer permissions: none; newer clients read the key). */
function mlflowUser(u: User, grants: readonly Grant[]): Record<string, unknown> {
  return {
    id: u.id,
    username: u.name,
    is_admin: u.admin,
    experiment_permissions: grants.filter((g) => g.kind === 'experiment').map(experimentPermission),
    registered_model_permissions: grants.filter((g) => g.kind === 'registered_model').map(registeredModelPermission),
    scorer_permissions: [],
  };
}

/** `is_admin` as MLflow's clients send it: a JSON boolean, or "true"/"false" in any case. */
function isAdminField(f: Fields): boolean {
  const v = f.raw('is_admin');
  if (v === undefined || v === null || v === '') throw invalid(`Missing value for required parameter 'is_admin'. See the API docs for more information about request parameters.`);
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && ['true', 'false'].includes(v.toLowerCase())) return v.toLowerCase() === 'true';
  throw badType('is_admin', v, "a boolean ('true' or 'false', in any case)");
}

/**
 * MLflow's auth REST API (its `AuthServiceClient`: users, experiment and registered-model permissions) as a thin
 * adapter onto governance's service. Users are Kiln users (`id` is the user's key, `is_admin` a server admin);
 * permissions are governance's resource-level grants (READ → viewer, EDIT → editor, MANAGE → maintainer,
 * NO_PERMISSIONS → denied), checked against the tracking and registry services when given. Who may call what is
 * MLflow's: admins manage users (a user may read themselves and change their own password), and an experiment's or
 * registered model's permissions are for admins and its maintainers.
 */
export async function mlflowAuthRoutes(app: FastifyInstance, deps: MlflowAuthDeps): Promise<void> {
  const g = deps.governance;
  type H = (f: Fields, req: FastifyRequest) => Promise<unknown>;
  const route = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, permission: RouteRule, h: H) =>
    app.route({ method, url, config: { permission }, handler: async (req) => (await h(fields(req), req)) ?? {} });
  const principal = (req: FastifyRequest): Principal => {
    if (!req.principal) throw new KilnError('UNAUTHENTICATED', 'Authentication required.');
    return req.principal;
  };

  /** A user's own record, or anyone's for an admin (MLflow: the request's username is the sender's, or the sender is an admin). */
  const selfOrAdmin = (req: FastifyRequest, username: string): Principal => {
    const p = principal(req);
    if (!p.admin && p.name !== username.normalize('NFC')) throw PERMISSION_DENIED();
    return p;
  };

  // ------------------------------------------------------------------ users
  route('POST', '/users/create', rule.admin, async (f) => {
    const username = f.requiredString('username');
    const password = f.requiredString('password');
    const user = await g.createUser({ name: username, password });
    return { user: mlflowUser(user, []) };
  });
  route('GET', '/users/get', rule.authenticated, async (f, req) => {
    const username = f.requiredString('username');
    selfOrAdmin(req, username);
    const user = await g.getUser(username);
    return { user: mlflowUser(user, await g.grantsOf(user.id)) };
  });
  route('PATCH', '/users/update-password', { access: 'authenticated', scope: 'write' }, async (f, req) => {
    const username = f.requiredString('username');
    const password = f.requiredString('password');
    const p = selfOrAdmin(req, username);
    if (p.name === username.normalize('NFC') && !p.admin) {
      // Their own: only with the current password on this very request, so a leaked token cannot take the account over.
      if (p.method !== 'password' && p.method !== 'session') throw new KilnError('PERMISSION_DENIED', 'Changing your own password needs your current one: send this request with basic auth (user name and password), not a token.');
    } else if (!hasScope(p, 'admin')) {
      throw new KilnError('PERMISSION_DENIED', "Changing another user's password needs a token with the 'admin' scope.");
    }
    await g.setPassword(username, password);
  });
  route('PATCH', '/users/update-admin', rule.admin, async (f) => {
    const username = f.requiredString('username');
    await g.updateUser(username, { admin: isAdminField(f) });
  });
  route('DELETE', '/users/delete', rule.admin, async (f) => {
    await g.deleteUser(f.requiredString('username'));
  });

  // ------------------------------------------------------------------ permissions
  const permissionRoutes = (path: string, kind: GrantKind, resource: ResourceKind, idField: string, key: string, json: (g: Grant) => Record<string, unknown>, exists: (id: string) => Promise<unknown>) => {
    const manage = rule.maintain(resource, field(idField));
    const read: RouteRule = { ...manage, scope: 'read' } as RouteRule;
    const id = (f: Fields) => (kind === 'experiment' ? f.idString(idField, true) : f.requiredString(idField));
    route('POST', `${path}/create`, manage, async (f) => {
      const resourceId = id(f);
      const username = f.requiredString('username');
      const permission = checkPermission(f.requiredString('permission'));
      // The resource must exist: a grant on nothing would go to whatever takes its id or name later.
      await exists(resourceId);
      return { [key]: json(await g.createGrant(kind, resourceId, username, permission)) };
    });
    route('GET', `${path}/get`, read, async (f) => {
      const resourceId = id(f);
      const username = f.requiredString('username');
      return { [key]: json(await g.getGrant(kind, resourceId, username)) };
    });
    // Updating and deleting need no resource: what was given on a deleted one can still be read and taken back.
    route('PATCH', `${path}/update`, manage, async (f) => {
      const resourceId = id(f);
      const username = f.requiredString('username');
      const permission = checkPermission(f.requiredString('permission'));
      await g.updateGrant(kind, resourceId, username, permission);
    });
    route('DELETE', `${path}/delete`, manage, async (f) => {
      const resourceId = id(f);
      const username = f.requiredString('username');
      await g.deleteGrant(kind, resourceId, username);
    });
  };
  permissionRoutes('/experiments/permissions', 'experiment', 'experiment', 'experiment_id', 'experiment_permission', experimentPermission, (id) => deps.tracking.getExperiment(id));
  permissionRoutes('/registered-models/permissions', 'registered_model', 'registered-model', 'name', 'registered_model_permission', registeredModelPermission, (name) => deps.registry.getModel(name));
}
