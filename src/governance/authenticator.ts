import type { FastifyRequest } from 'fastify';
import { KilnError } from '../platform/errors.js';
import { OPEN_AUTHENTICATOR, type Authenticator } from '../platform/auth/authenticator.js';
import type { AuthMethod, Principal } from '../platform/auth/principal.js';
import type { AuditLog } from '../platform/audit/log.js';
import { parseToken } from './tokens.js';
import { LoginLimiter, type LoginLimiterOptions } from './login-limiter.js';
import { CSRF_HEADER, readSessionCookie, SAFE_METHODS } from './session-cookie.js';
import type { GovernanceService } from './service.js';
import { looksLikeJwt, type OidcClient } from './oidc.js';

/** What a request's credentials claim, as the audit log records a refused one: never the password or the token's secret. */
interface Attempt {
  readonly method: AuthMethod;
  /** The user name sent with a password. */
  readonly user?: string;
  /** The public id of the token sent. */
  readonly tokenId?: string;
}

/** The governance authenticator, and the sign-in of the UI's login form (through the same limiter and audit). */
export interface GovernanceAuthenticator extends Authenticator {
  /** Checks a user name and password typed into the login form; refusals are slowed and recorded as for basic auth. */
  signIn(req: FastifyRequest, user: string, password: string): Promise<Principal>;
  /** Runs a single sign-on's check (the SSO callback) through the same limiter, recording a refusal as `auth.login_failed` with method `oidc`. */
  ssoSignIn(req: FastifyRequest, check: () => Promise<Principal>): Promise<Principal>;
}

/**
 * `--auth on`: the credentials of the Authorization header, else the session cookie of the web UI. `Bearer kiln_…` is an API token (MLflow clients send
 * MLFLOW_TRACKING_TOKEN this way); with OIDC configured, any other bearer that is a JWT is the identity provider's
 * (verified against its JWKS, method `jwt`); `Basic` is a user name and password (MLFLOW_TRACKING_USERNAME/PASSWORD), or any
 * user name with an API token as the password (for tools that only speak basic auth). `--auth none`: the open one.
 *
 * A session cookie authenticates as its user (method `session`); a request it authenticates that may change something
 * (any method but GET, HEAD and OPTIONS) must carry `X-Kiln-CSRF` equal to the session's CSRF token, else 403. The
 * Authorization header, when present, wins over the cookie (a header no other site can make a browser send).
 *
 * With an audit log, refused credentials are recorded (`auth.login_failed`, outcome `denied`, naming the user or the
 * token id tried), and so is a sign-in whose password was checked rather than remembered (`auth.login`).
 */
export function governanceAuthenticator(
  service: GovernanceService,
  mode: 'on' | 'none',
  audit?: AuditLog,
  report: (e: unknown, what: string) => void = () => {},
  limits: Partial<LoginLimiterOptions> = {},
  oidc?: OidcClient,
): Authenticator {
  return mode === 'none' ? OPEN_AUTHENTICATOR : authOnAuthenticator(service, audit, report, limits, oidc);
}

/** The authenticator of `--auth on` (see governanceAuthenticator), with the login form's sign-in. */
export function authOnAuthenticator(
  service: GovernanceService,
  audit?: AuditLog,
  report: (e: unknown, what: string) => void = () => {},
  limits: Partial<LoginLimiterOptions> = {},
  oidc?: OidcClient,
): GovernanceAuthenticator {
  const mode = 'on' as const;
  const limiter = new LoginLimiter(limits);
  const from = (req: FastifyRequest) => ({ source: req.ip, requestId: String(req.id) });
  const refused = async (req: FastifyRequest, attempt: Attempt, reason: string) => {
    if (!audit) return;
    const resource = attempt.tokenId !== undefined ? { resourceType: 'token', resourceId: attempt.tokenId } : attempt.user !== undefined ? { resourceType: 'user', resourceId: [...attempt.user].slice(0, 128).join('') } : {};
    try {
      await audit.recordAlone(
        { action: 'auth.login_failed', outcome: 'denied', ...resource, details: { method: attempt.method, reason } },
        { actor: 'anonymous', actorKind: 'anonymous', authMethod: attempt.method, ...from(req) },
      );
    } catch (e) {
      // The request is refused all the same.
      report(e, 'recording a refused sign-in in the audit log');
    }
  };
  const signedIn = (req: FastifyRequest) => async (p: Principal) => {
    await audit?.recordAlone({ action: 'auth.login', resourceType: 'user', resourceId: p.name, details: { method: p.method } }, { actor: p.name, actorKind: p.kind, authMethod: p.method, ...from(req) });
  };
  /** Runs a check of the service; a refusal is recorded with the service's message (which holds no secret) before it is passed on. */
  const checked = async (req: FastifyRequest, attempt: Attempt, check: () => Promise<Principal>): Promise<Principal> => {
    // Guessing is slowed per user name and per address (429 before any check: it costs no scrypt either).
    limiter.check(attempt.user, req.ip);
    try {
      const p = await check();
      limiter.succeeded(attempt.user, req.ip);
      return p;
    } catch (e) {
      if (e instanceof KilnError && e.code === 'UNAUTHENTICATED') {
        limiter.failed(attempt.user, req.ip);
        await refused(req, attempt, e.message);
      }
      throw e;
    }
  };
  const fromSession = async (req: FastifyRequest, id: string): Promise<Principal> => {
    // Not slowed nor recorded when refused: 256 random bits are not guessed, and an ended session's cookie is ordinary.
    const { principal, info } = await service.authenticateSession(id);
    if (!SAFE_METHODS.has(req.method)) {
      const presented = req.headers[CSRF_HEADER];
      if (!service.csrfMatches(info, Array.isArray(presented) ? presented[0] : presented)) {
        throw new KilnError('PERMISSION_DENIED', 'A request signed in with the session cookie that changes something must send the X-Kiln-CSRF header with the session’s CSRF token (GET /api/v1/auth/session gives it).');
      }
    }
    return principal;
  };
  return {
    mode,
    signIn: (req, user, password) => checked(req, { method: 'password', user }, () => service.authenticatePassword(user, password, 'password')),
    ssoSignIn: (req, check) => checked(req, { method: 'oidc' }, check),
    async authenticate(req: FastifyRequest): Promise<Principal | undefined> {
      const header = req.headers.authorization;
      if (header === undefined || header === '') {
        const session = readSessionCookie(req);
        return session === undefined ? undefined : fromSession(req, session);
      }
      const space = header.indexOf(' ');
      const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
      const value = space < 0 ? '' : header.slice(space + 1).trim();
      if (scheme === 'bearer' && oidc && looksLikeJwt(value)) return checked(req, { method: 'jwt' }, async () => service.ssoPrincipal(await oidc.verifyBearer(value), 'jwt'));
      if (scheme === 'bearer') return checked(req, { method: 'token', tokenId: parseToken(value)?.id }, () => service.authenticateToken(value));
      if (scheme === 'basic') {
        const decoded = Buffer.from(value, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon < 0) {
          limiter.check(undefined, req.ip);
          limiter.failed(undefined, req.ip);
          await refused(req, { method: 'password' }, 'malformed basic credentials');
          throw new KilnError('UNAUTHENTICATED', 'Malformed basic credentials: expected base64 of user:password.');
        }
        const user = decoded.slice(0, colon);
        const password = decoded.slice(colon + 1);
        const token = parseToken(password);
        if (token) return checked(req, { method: 'token', tokenId: token.id }, () => service.authenticateToken(password));
        return checked(req, { method: 'password', user }, () => service.authenticatePassword(user, password, 'password', audit ? signedIn(req) : undefined));
      }
      // The scheme is not recorded: a bare secret sent without one would be taken for it.
      limiter.check(undefined, req.ip);
      limiter.failed(undefined, req.ip);
      await refused(req, { method: 'none' }, 'unsupported Authorization scheme');
      throw new KilnError('UNAUTHENTICATED', `Unsupported Authorization scheme '${scheme}': use Bearer <API token${oidc ? ' or the identity provider’s JWT' : ''}> or Basic <user:password>.`);
    },
  };
}
