import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { KilnError } from '../platform/errors.js';
import { rule } from '../platform/auth/rules.js';
import { runInContext } from '../platform/auth/context.js';
import type { Principal } from '../platform/auth/principal.js';
import { ErrorBody } from '../platform/http/schemas.js';
import type { GovernanceService } from './service.js';
import type { GovernanceAuthenticator } from './authenticator.js';
import { safeReturnTo, type OidcClient } from './oidc.js';
import { clearSsoCookie, overTls, readSsoCookie, setSessionCookie, setSsoCookie } from './session-cookie.js';

export interface SsoRouteDeps {
  readonly governance: GovernanceService;
  /** Absent: single sign-on is not configured (or auth is off); both routes answer 404. */
  readonly oidc?: OidcClient;
  readonly authenticator?: GovernanceAuthenticator;
  /** Run after a sign-in's principal is known, before its session opens (the role map's project memberships). */
  readonly onSignIn?: (p: Principal) => Promise<void>;
}

/** How long the browser may stay at the provider (the sign-in cookie and its row expire then). */
const LOGIN_TTL_MS = 10 * 60_000;
const err = { 400: ErrorBody, 401: ErrorBody, 429: ErrorBody, 503: ErrorBody };
export const SSO_CALLBACK_PATH = '/api/v1/auth/sso/callback';

const notConfigured = () => new KilnError('RESOURCE_DOES_NOT_EXIST', 'Single sign-on is not configured on this server (KILN_OIDC_ISSUER, with --auth on).');

/** `<scheme>://<host>` of the request as the browser reached it (behind a TLS proxy: https). */
function origin(req: FastifyRequest): string {
  return `${overTls(req) ? 'https' : 'http'}://${req.host}`;
}

/** Single sign-on of the web UI with the OIDC provider (see docs/security.md#single-sign-on-oidc). */
export const ssoRoutes: FastifyPluginAsync<SsoRouteDeps> = async (root, deps) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const g = deps.governance;
  const tags = ['auth'];

  app.get(
    '/auth/sso/login',
    {
      config: { permission: rule.public },
      schema: {
        tags,
        summary: 'Start single sign-on: redirects to the identity provider (authorization code with PKCE); return_to is the path to land on once signed in',
        querystring: Type.Object({
          return_to: Type.Optional(Type.String({ maxLength: 2048, description: 'A path of this server (/experiments?q=…); anything else is refused.' })),
          next: Type.Optional(Type.String({ maxLength: 2048, description: 'The same as return_to (the login page sends it).' })),
        }),
        response: { 302: Type.Null(), 404: ErrorBody, ...err },
      },
    },
    async (req, reply) => {
      const oidc = deps.oidc;
      if (!oidc || !deps.authenticator) throw notConfigured();
      const returnTo = safeReturnTo(req.query.return_to ?? req.query.next);
      if (returnTo === undefined) throw new KilnError('INVALID_PARAMETER_VALUE', 'return_to must be a path of this server (starting with a single /).');
      const redirectUrl = oidc.settings.redirectUrl || origin(req) + SSO_CALLBACK_PATH;
      const { url, login } = await oidc.begin(redirectUrl);
      const id = await g.startSsoLogin({ ...login, returnTo });
      void reply.header('set-cookie', setSsoCookie(req, id, LOGIN_TTL_MS));
      void reply.header('cache-control', 'no-store');
      return reply.redirect(url.href, 302);
    },
  );

  app.get(
    '/auth/sso/callback',
    {
      config: { permission: rule.public },
      schema: {
        tags,
        summary: 'Where the identity provider sends the browser back: checks the code (PKCE, state, ID token, nonce), opens the session, redirects to return_to',
        querystring: Type.Object({}, { additionalProperties: true }),
        response: { 302: Type.Null(), 404: ErrorBody, ...err },
      },
    },
    async (req, reply) => {
      const oidc = deps.oidc;
      const authenticator = deps.authenticator;
      if (!oidc || !authenticator) throw notConfigured();
      void reply.header('cache-control', 'no-store');
      // The sign-in cookie is used once, whatever happens.
      void reply.header('set-cookie', clearSsoCookie(req));
      let returnTo = '/';
      const principal = await authenticator.ssoSignIn(req, async () => {
        const id = readSsoCookie(req);
        const login = id === undefined ? undefined : await g.takeSsoLogin(id);
        if (!login) throw new KilnError('UNAUTHENTICATED', 'No single sign-on under way in this browser (its cookie is missing, used or expired): start again from the login page.');
        returnTo = login.returnTo;
        const callback = new URL(login.redirectUrl);
        callback.search = new URL(req.url, 'http://kiln.invalid').search;
        return g.ssoPrincipal(await oidc.finish(callback, login), 'oidc');
      });
      await deps.onSignIn?.(principal);
      // The session and its auth.login entry are written as the user who just signed in.
      const made = await runInContext({ principal, requestId: req.id, source: req.ip }, () => g.createSession(principal));
      void reply.header('set-cookie', [clearSsoCookie(req), setSessionCookie(req, made.id, made.info.expiryTime - made.info.creationTime)]);
      return reply.redirect(returnTo, 302);
    },
  );
};
