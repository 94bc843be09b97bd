import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { KilnError } from '../platform/errors.js';
import { rule } from '../platform/auth/rules.js';
import type { Principal } from '../platform/auth/principal.js';
import { ErrorBody } from '../platform/http/schemas.js';
import * as S from '@kiln-mlops/sdk/contract/governance-schemas';
import type { GovernanceService, TokenInfo, User } from './service.js';

export interface GovernanceRouteDeps {
  readonly governance: GovernanceService;
  readonly mode: 'on' | 'none';
}

const err = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };

export const userJson = (u: User): S.User => ({
  name: u.name,
  kind: u.kind,
  display_name: u.displayName,
  email: u.email,
  admin: u.admin,
  disabled: u.disabled,
  has_password: u.hasPassword,
  creation_time: u.creationTime,
  last_update_time: u.lastUpdateTime,
  last_login_time: u.lastLoginTime,
});

export const tokenJson = (t: TokenInfo): S.TokenInfo => ({
  id: t.id,
  name: t.name,
  user: t.user,
  scopes: [...t.scopes],
  creation_time: t.creationTime,
  expiry_time: t.expiryTime,
  last_used_time: t.lastUsedTime,
  revoked_time: t.revokedTime,
});

const principalOf = (req: FastifyRequest): Principal => {
  if (!req.principal) throw new KilnError('UNAUTHENTICATED', 'Authentication required.');
  return req.principal;
};

/** Whose tokens a request means: the caller's own, or (admins) the user named. */
function ownerOf(req: FastifyRequest, named: string | undefined): string {
  const p = principalOf(req);
  if (named === undefined || named === p.name) {
    if (p.kind === 'anonymous') throw new KilnError('INVALID_STATE', 'Tokens belong to users: with --auth none, name one with user=… (the server has no signed-in user).');
    return p.name;
  }
  if (!p.admin) throw new KilnError('PERMISSION_DENIED', "Only a server admin may manage another user's tokens.");
  return named;
}

/** Users, API tokens and the caller's identity under /api/v1. */
export const governanceRoutes: FastifyPluginAsync<GovernanceRouteDeps> = async (root, deps) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const g = deps.governance;
  app.addSchema(ErrorBody);

  app.get('/auth/whoami', { config: { permission: rule.authenticated }, schema: { tags: ['auth'], summary: 'Who the caller is and how they authenticated', response: { 200: S.WhoAmI, ...err } } }, async (req) => {
    const p = principalOf(req);
    return { name: p.name, kind: p.kind, admin: p.admin, method: p.method, scopes: p.scopes === 'all' ? 'all' : [...p.scopes], ...(p.tokenId ? { token_id: p.tokenId } : {}), ...(p.groups ? { groups: [...p.groups] } : {}), auth: deps.mode } as S.WhoAmI;
  });

  // ------------------------------------------------------------------ users
  app.get('/users', { config: { permission: rule.admin }, schema: { tags: ['users'], summary: 'List users and service accounts', response: { 200: Type.Object({ users: Type.Array(S.User) }), ...err } } }, async () => ({
    users: (await g.listUsers()).map(userJson),
  }));
  app.post('/users', { config: { permission: rule.admin }, schema: { tags: ['users'], summary: 'Create a user or service account', body: S.CreateUserBody, response: { 201: Type.Object({ user: S.User }), 409: ErrorBody, ...err } } }, async (req, reply) => {
    const b = req.body;
    const user = await g.createUser({ name: b.name, password: b.password, admin: b.admin, kind: b.kind, displayName: b.display_name, email: b.email });
    return reply.status(201).send({ user: userJson(user) });
  });
  const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) });
  /** Another user's record is for admins; one's own for oneself. */
  const selfOrAdmin = (req: FastifyRequest, name: string) => {
    const p = principalOf(req);
    if (!p.admin && p.name !== name) throw new KilnError('PERMISSION_DENIED', 'Only a server admin may see or change other users.');
    return p;
  };
  app.get('/users/:name', { config: { permission: rule.authenticated }, schema: { tags: ['users'], summary: 'Get a user (admins: any; others: themselves)', params: NameParams, response: { 200: Type.Object({ user: S.User }), ...err } } }, async (req) => {
    selfOrAdmin(req, req.params.name);
    return { user: userJson(await g.getUser(req.params.name)) };
  });
  app.patch('/users/:name', { config: { permission: { access: 'authenticated', scope: 'write' } }, schema: { tags: ['users'], summary: "Change a user (admins: anything; others: their own display name and email)", params: NameParams, body: S.UpdateUserBody, response: { 200: Type.Object({ user: S.User }), 409: ErrorBody, ...err } } }, async (req) => {
    const p = selfOrAdmin(req, req.params.name);
    if (!p.admin && (req.body.admin !== undefined || req.body.disabled !== undefined)) throw new KilnError('PERMISSION_DENIED', 'Only a server admin may change admin or disabled.');
    const b = req.body;
    return { user: userJson(await g.updateUser(req.params.name, { admin: b.admin, disabled: b.disabled, displayName: b.display_name, email: b.email })) };
  });
  app.put('/users/:name/password', { config: { permission: { access: 'authenticated', scope: 'write' } }, schema: { tags: ['users'], summary: "Set a password (one's own with the current one; admins any)", params: NameParams, body: S.SetPasswordBody, response: { 204: Type.Null(), ...err } } }, async (req, reply) => {
    const p = selfOrAdmin(req, req.params.name);
    if (p.name === req.params.name && p.kind !== 'anonymous') {
      if (req.body.current_password === undefined) throw new KilnError('INVALID_PARAMETER_VALUE', 'current_password is required to change your own password.');
      await g.authenticatePassword(req.params.name, req.body.current_password).catch(() => {
        throw new KilnError('PERMISSION_DENIED', 'current_password is not right.');
      });
    }
    await g.setPassword(req.params.name, req.body.password);
    return reply.status(204).send(null);
  });
  app.delete('/users/:name', { config: { permission: rule.admin }, schema: { tags: ['users'], summary: 'Delete a user and their tokens', params: NameParams, response: { 204: Type.Null(), 409: ErrorBody, ...err } } }, async (req, reply) => {
    await g.deleteUser(req.params.name);
    return reply.status(204).send(null);
  });

  // ------------------------------------------------------------------ tokens
  const UserQuery = Type.Object({ user: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })) });
  app.get('/tokens', { config: { permission: rule.authenticated }, schema: { tags: ['tokens'], summary: 'List your API tokens (admins: any user’s, with user=)', querystring: UserQuery, response: { 200: Type.Object({ tokens: Type.Array(S.TokenInfo) }), ...err } } }, async (req) => ({
    tokens: (await g.listTokens(ownerOf(req, req.query.user))).map(tokenJson),
  }));
  app.post('/tokens', { config: { permission: rule.authenticated }, schema: { tags: ['tokens'], summary: 'Create an API token (shown once)', body: S.CreateTokenBody, response: { 201: S.CreatedToken, 409: ErrorBody, ...err } } }, async (req, reply) => {
    const p = principalOf(req);
    const scopes = req.body.scopes ?? ['read', 'write'];
    // A token never reaches further than the credentials that made it.
    if (p.scopes !== 'all') {
      const beyond = scopes.filter((s) => !(p.scopes as readonly string[]).includes(s));
      if (beyond.length > 0) throw new KilnError('PERMISSION_DENIED', `This token cannot make a token with scopes it lacks: ${beyond.join(', ')}.`);
    }
    const made = await g.createToken(ownerOf(req, req.body.user), { name: req.body.name, scopes, expiresInDays: req.body.expires_in_days });
    return reply.status(201).send({ token: made.token, token_info: tokenJson(made.info) });
  });
  app.delete(
    '/tokens/:token',
    { config: { permission: rule.authenticated }, schema: { tags: ['tokens'], summary: 'Revoke an API token by id or name', params: Type.Object({ token: Type.String({ minLength: 1, maxLength: 128 }) }), querystring: UserQuery, response: { 200: Type.Object({ token_info: S.TokenInfo }), ...err } } },
    async (req) => ({ token_info: tokenJson(await g.revokeToken(ownerOf(req, req.query.user), req.params.token)) }),
  );
};
