import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { KilnError } from '../platform/errors.js';
import { parseRoleMap, type KilnConfig, type RoleMapEntry } from '../platform/config.js';
import type { SsoIdentity, SsoLogin } from './service.js';

/** The OIDC settings (KILN_OIDC_*), read from the server's configuration. */
export interface OidcSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** '' derives it from the request (`<server>/api/v1/auth/sso/callback`). */
  readonly redirectUrl: string;
  readonly scopes: string;
  readonly usernameClaim: string;
  readonly groupsClaim: string;
  readonly roleMap: readonly RoleMapEntry[];
  /** The `aud` bearer JWTs must carry. */
  readonly audience: string;
}

/** The OIDC settings of a configuration; undefined when KILN_OIDC_ISSUER is unset (no single sign-on). */
export function oidcSettings(config: KilnConfig): OidcSettings | undefined {
  if (config.oidcIssuer === '') return undefined;
  let issuer: URL;
  try {
    issuer = new URL(config.oidcIssuer);
  } catch {
    throw new KilnError('INVALID_PARAMETER_VALUE', `KILN_OIDC_ISSUER must be a URL, got '${config.oidcIssuer}'.`);
  }
  if (issuer.protocol !== 'https:' && !(issuer.protocol === 'http:' && isLoopback(issuer.hostname))) {
    throw new KilnError('INVALID_PARAMETER_VALUE', `KILN_OIDC_ISSUER must be an https URL (plain http only on a loopback address), got '${config.oidcIssuer}'.`);
  }
  if (config.oidcClientId === '') throw new KilnError('INVALID_PARAMETER_VALUE', 'KILN_OIDC_ISSUER is set: KILN_OIDC_CLIENT_ID is needed too.');
  if (config.oidcRedirectUrl !== '') {
    try {
      new URL(config.oidcRedirectUrl);
    } catch {
      throw new KilnError('INVALID_PARAMETER_VALUE', `KILN_OIDC_REDIRECT_URL must be a URL, got '${config.oidcRedirectUrl}'.`);
    }
  }
  const scopes = config.oidcScopes.split(/\s+/).filter((s) => s !== '');
  if (!scopes.includes('openid')) scopes.unshift('openid');
  return {
    issuer: config.oidcIssuer,
    clientId: config.oidcClientId,
    clientSecret: config.oidcClientSecret,
    redirectUrl: config.oidcRedirectUrl,
    scopes: scopes.join(' '),
    usernameClaim: config.oidcUsernameClaim || 'preferred_username',
    groupsClaim: config.oidcGroupsClaim || 'groups',
    roleMap: parseRoleMap(config.oidcRoleMap),
    audience: config.oidcAudience || config.oidcClientId,
  };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The value at a dotted path of a claims object (`realm_access.roles`); a claim whose own name has dots wins. */
function claimAt(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  if (path in claims) return claims[path];
  let v: unknown = claims;
  for (const part of path.split('.')) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/** An error's message with its cause's (openid-client wraps what did not match in a generic 'invalid response encountered'). */
function reason(e: unknown): string {
  const err = e as Error & { cause?: unknown };
  const cause = err.cause instanceof Error ? err.cause.message : typeof err.cause === 'object' && err.cause !== null && 'error' in err.cause ? String((err.cause as { error: unknown }).error) : undefined;
  return cause && cause !== err.message ? `${err.message} (${cause})` : err.message;
}

/** Why a sign-in or a bearer JWT was refused, as a 401 (the message holds no secret). */
const refused = (why: string) => new KilnError('UNAUTHENTICATED', why);

/**
 * Kiln as an OIDC relying party: the authorization code flow with PKCE (S256), state and nonce through
 * openid-client, and bearer JWTs verified with jose against the issuer's JWKS. The provider's discovery document is
 * read at first use (a provider down at start does not stop the server) and again after a failure.
 */
export class OidcClient {
  private configuration: Promise<client.Configuration> | undefined;
  private jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  private readonly adminGroups: ReadonlySet<string>;

  constructor(
    readonly settings: OidcSettings,
    private readonly now: () => number = Date.now,
  ) {
    this.adminGroups = new Set(settings.roleMap.filter((e) => e.admin).map((e) => e.group));
  }

  private async config(): Promise<client.Configuration> {
    this.configuration ??= (async () => {
      const s = this.settings;
      const insecure = new URL(s.issuer).protocol === 'http:';
      const auth = s.clientSecret === '' ? client.None() : client.ClientSecretBasic(s.clientSecret);
      return client.discovery(new URL(s.issuer), s.clientId, s.clientSecret === '' ? undefined : s.clientSecret, auth, {
        timeout: 10,
        ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
      });
    })();
    try {
      return await this.configuration;
    } catch (e) {
      this.configuration = undefined;
      throw new KilnError('TEMPORARILY_UNAVAILABLE', `The identity provider's discovery document could not be read: ${(e as Error).message}`);
    }
  }

  /** Starts a sign-in: the provider's authorization URL, and what the callback must check. */
  async begin(redirectUrl: string): Promise<{ url: URL; login: Omit<SsoLogin, 'returnTo'> }> {
    const config = await this.config();
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUrl,
      scope: this.settings.scopes,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url, login: { state, nonce, codeVerifier, redirectUrl } };
  }

  /**
   * Ends a sign-in: exchanges the code of the callback's URL (with the PKCE verifier), checks state, the ID token
   * (signature, issuer, audience, expiry) and its nonce. Claims the ID token lacks (the username or groups claim) are
   * read from the userinfo endpoint. UNAUTHENTICATED when anything does not match.
   */
  async finish(callbackUrl: URL, login: SsoLogin): Promise<SsoIdentity> {
    const config = await this.config();
    const error = callbackUrl.searchParams.get('error');
    if (error !== null) throw refused(`The identity provider refused the sign-in: ${error}${callbackUrl.searchParams.has('error_description') ? ` (${callbackUrl.searchParams.get('error_description')})` : ''}.`);
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(config, callbackUrl, { pkceCodeVerifier: login.codeVerifier, expectedState: login.state, expectedNonce: login.nonce, idTokenExpected: true });
    } catch (e) {
      throw refused(`Single sign-on failed: ${reason(e)}`);
    }
    const idToken = tokens.claims();
    if (!idToken) throw refused('Single sign-on failed: the provider sent no ID token.');
    let claims: Record<string, unknown> = { ...idToken };
    const needs = [this.settings.usernameClaim, this.settings.groupsClaim].some((c) => claimAt(claims, c) === undefined);
    if (needs && config.serverMetadata().userinfo_endpoint) {
      try {
        const info = await client.fetchUserInfo(config, tokens.access_token, idToken.sub);
        claims = { ...info, ...claims };
        for (const c of [this.settings.usernameClaim, this.settings.groupsClaim]) {
          const v = claimAt(info, c);
          if (claimAt(claims, c) === undefined && v !== undefined) claims[c] = v;
        }
      } catch (e) {
        throw refused(`Single sign-on failed: the userinfo endpoint answered ${reason(e)}`);
      }
    }
    return this.identity(config.serverMetadata().issuer, claims);
  }

  /**
   * A bearer JWT from the provider: verified against the issuer's JWKS (signature, `iss`, `aud` = KILN_OIDC_AUDIENCE
   * or the client id, `exp` and `nbf`); UNAUTHENTICATED otherwise.
   */
  async verifyBearer(token: string): Promise<SsoIdentity> {
    const config = await this.config();
    const meta = config.serverMetadata();
    if (!meta.jwks_uri) throw refused('The identity provider publishes no JWKS: bearer JWTs cannot be checked.');
    this.jwks ??= createRemoteJWKSet(new URL(meta.jwks_uri), { timeoutDuration: 10_000 });
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.jwks, { issuer: meta.issuer, audience: this.settings.audience, currentDate: new Date(this.now()), requiredClaims: ['exp', 'sub'] }));
    } catch (e) {
      throw refused(`Invalid bearer JWT: ${(e as Error).message}`);
    }
    return this.identity(meta.issuer, payload as Record<string, unknown>);
  }

  /** The Kiln identity of verified claims: the user name (username claim, else email, else sub), the groups, the admin flag of the role map. */
  identity(issuer: string, claims: Readonly<Record<string, unknown>>): SsoIdentity {
    const subject = text(claims.sub);
    if (subject === undefined) throw refused('The identity provider sent no subject (sub).');
    const name = text(claimAt(claims, this.settings.usernameClaim)) ?? text(claims.email) ?? subject;
    const raw = claimAt(claims, this.settings.groupsClaim);
    const groups = [...new Set((Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : []).filter((g): g is string => typeof g === 'string' && g !== '' && g.length <= 256))];
    const displayName = text(claims.name);
    const email = text(claims.email);
    return {
      issuer,
      subject,
      name,
      groups,
      ...(displayName !== undefined ? { displayName } : {}),
      ...(email !== undefined ? { email } : {}),
      ...(this.adminGroups.size > 0 ? { admin: groups.some((g) => this.adminGroups.has(g)) } : {}),
    };
  }
}

/** Whether a bearer credential is a JWT (three base64url parts) rather than a Kiln token (`kiln_…`). */
export function looksLikeJwt(value: string): boolean {
  return !value.startsWith('kiln_') && /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(value);
}

/**
 * A `return_to` that stays on this server: a path starting with one `/` (not `//`, no backslash, no control
 * character) that resolves to the same origin; undefined for anything else (an open redirect). Empty: `/`.
 */
export function safeReturnTo(raw: unknown): string | undefined {
  if (raw === undefined || raw === '') return '/';
  if (typeof raw !== 'string' || raw.length > 2048) return undefined;
  // eslint-disable-next-line no-control-regex
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.includes('\\') || /[\u0000-\u001f\u007f]/.test(raw)) return undefined;
  const base = 'http://kiln.invalid';
  let u: URL;
  try {
    u = new URL(raw, base);
  } catch {
    return undefined;
  }
  if (u.origin !== base) return undefined;
  return u.pathname + u.search + u.hash;
}
