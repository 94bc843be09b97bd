import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { KilnError } from '../platform/errors.js';
import { rule } from '../platform/auth/rules.js';
import { runInContext } from '../platform/auth/context.js';
import { ErrorBody } from '../platform/http/schemas.js';
import * as S from '@kiln-mlops/sdk/contract/governance-schemas';
import type { GovernanceService, SessionInfo } from './service.js';
import type { GovernanceAuthenticator } from './authenticator.js';
import { clearSessionCookie, readSessionCookie, setSessionCookie } from './session-cookie.js';

export interface SessionRouteDeps {
  readonly governance: GovernanceService;
  readonly mode: 'on' | 'none';
  /** With `--auth on`: checks the login form's password through the login limiter and the audit log. */
  readonly authenticator?: GovernanceAuthenticator;
  /** Whether single sign-on (OIDC) is configured: the login page offers it. */
  readonly sso: boolean;
}

const err = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 409: ErrorBody, 429: ErrorBody };

/** Whether the request was authenticated by a session cookie (a password's or single sign-on's). */
export const bySessionCookie = (method: string | undefined) => method === 'session' || method === 'oidc';

const sessionJson = (info: SessionInfo, sso: boolean): S.AuthSession => ({
  user: info.user,
  admin: info.admin,
  method: info.method,
  csrf_token: info.csrfToken,
  auth: 'on',
  sso,
  expiry_time: info.expiryTime,
  idle_expiry_time: info.idleExpiryTime,
});

/** Without a session: 401, and what the login page needs to know (whether to offer single sign-on). */
const signedOut = (sso: boolean) => new KilnError('UNAUTHENTICATED', 'Not signed in.', { auth: 'on', sso });

/** The web UI's sign-in, sign-out and session under /api/v1/auth (see docs/security.md#browser-sessions). */
export const sessionRoutes: FastifyPluginAsync<SessionRouteDeps> = async (root, deps) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const g = deps.governance;
  const tags = ['auth'];

  app.post(
    '/auth/login',
    {
      config: { permission: rule.public },
      schema: { tags, summary: 'Sign in with a user name and password: sets the session cookie, answers the session (with its CSRF token)', body: S.LoginBody, response: { 200: S.AuthSession, ...err } },
    },
    async (req, reply) => {
      const authn = deps.authenticator;
      if (deps.mode === 'none' || !authn) throw new KilnError('INVALID_STATE', 'Authentication is off (--auth none): there is nothing to sign in to.');
      const principal = await authn.signIn(req, req.body.username, req.body.password);
      // The session and its auth.login entry are written as the user who just signed in.
      const made = await runInContext({ principal, requestId: req.id, source: req.ip }, () => g.createSession(principal));
      void reply.header('set-cookie', setSessionCookie(req, made.id, made.info.expiryTime - made.info.creationTime));
      void reply.header('cache-control', 'no-store');
      return sessionJson(made.info, deps.sso);
    },
  );

  app.post(
    '/auth/logout',
    { config: { permission: rule.public }, schema: { tags, summary: 'Sign out: ends the session of the cookie and clears it', response: { 204: Type.Null(), ...err } } },
    async (req, reply) => {
      const id = readSessionCookie(req);
      // Only a request the session itself authenticated (with its CSRF token) ends it; the cookie is cleared in any case.
      if (id !== undefined && bySessionCookie(req.principal?.method)) await g.endSession(id);
      if (id !== undefined) void reply.header('set-cookie', clearSessionCookie(req));
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/auth/session',
    {
      config: { permission: rule.public },
      schema: { tags, summary: 'The caller’s session: user, admin, CSRF token, auth mode, whether SSO is configured (401 without one)', response: { 200: S.AuthSession, ...err } },
    },
    async (req, reply) => {
      void reply.header('cache-control', 'no-store');
      const p = req.principal;
      if (deps.mode === 'none') {
        return { user: p?.name ?? '', admin: true, method: 'none', csrf_token: null, auth: 'none', sso: false, expiry_time: null, idle_expiry_time: null } satisfies S.AuthSession;
      }
      const id = readSessionCookie(req);
      if (bySessionCookie(p?.method) && id !== undefined) return sessionJson((await g.authenticateSession(id)).info, deps.sso);
      if (p !== undefined) return { user: p.name, admin: p.admin, method: p.method, csrf_token: null, auth: 'on', sso: deps.sso, expiry_time: null, idle_expiry_time: null } satisfies S.AuthSession;
      // An ended session's cookie is of no use any more.
      if (id !== undefined) void reply.header('set-cookie', clearSessionCookie(req));
      throw signedOut(deps.sso);
    },
  );
};

