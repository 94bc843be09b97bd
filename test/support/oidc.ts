import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { errors } from 'oidc-provider';

/** An account of the test provider: its login is its `sub` and preferred_username. */
export interface TestAccount {
  groups: string[];
  email?: string;
  name?: string;
}

export interface TestProvider {
  /** The issuer URL (plain http on loopback). */
  readonly issuer: string;
  /** The accounts by login; change their groups between sign-ins. */
  readonly accounts: Map<string, TestAccount>;
  /** Registers the clients (Kiln's web client with its redirect URL, a service client for JWT bearer tokens) and starts answering. */
  start(kilnRedirectUrl: string): Promise<void>;
  /** A client-credentials access token in JWT format for the resource (`urn:kiln`: audience `kiln-api`; `urn:other`: `other-api`). */
  serviceToken(resource?: string): Promise<string>;
  stop(): Promise<void>;
}

export const WEB_CLIENT = { id: 'kiln-web', secret: 'kiln-web-secret-for-tests-only' };
export const SERVICE_CLIENT = { id: 'kiln-robot', secret: 'kiln-robot-secret-for-tests-only', groups: ['vision-devs'] };
export const KILN_AUDIENCE = 'kiln-api';

/**
 * A real OpenID provider (`oidc-provider`) on a loopback port, with its development login page (any password is
 * accepted for an account in `accounts`), consent granted up front, PKCE required, a `groups` claim and JWT access
 * tokens for resource indicators. The port is taken first (Kiln needs the issuer before the provider knows
 * Kiln's redirect URL); `start` then answers.
 */
export async function startTestProvider(): Promise<TestProvider> {
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const accounts = new Map<string, TestAccount>();
  let provider: Provider | undefined;
  return {
    issuer,
    accounts,
    async start(kilnRedirectUrl) {
      const { privateKey } = await generateKeyPair('RS256', { extractable: true });
      const jwk = { ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'test-key' };
      const resources: Record<string, { scope: string; audience: string; accessTokenFormat: 'jwt'; accessTokenTTL: number }> = {
        'urn:kiln': { scope: 'api', audience: KILN_AUDIENCE, accessTokenFormat: 'jwt', accessTokenTTL: 600 },
        'urn:other': { scope: 'api', audience: 'other-api', accessTokenFormat: 'jwt', accessTokenTTL: 600 },
      };
      provider = new Provider(issuer, {
        clients: [
          {
            client_id: WEB_CLIENT.id,
            client_secret: WEB_CLIENT.secret,
            redirect_uris: [kilnRedirectUrl],
            grant_types: ['authorization_code'],
            response_types: ['code'],
            token_endpoint_auth_method: 'client_secret_basic',
          },
          { client_id: SERVICE_CLIENT.id, client_secret: SERVICE_CLIENT.secret, grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope: 'api' },
        ],
        jwks: { keys: [jwk] },
        cookies: { keys: ['test-provider-cookie-key'] },
        pkce: { required: () => true },
        scopes: ['openid', 'offline_access', 'api'],
        claims: { openid: ['sub'], profile: ['preferred_username', 'name'], email: ['email'], groups: ['groups'] },
        features: {
          devInteractions: { enabled: true },
          clientCredentials: { enabled: true },
          resourceIndicators: {
            enabled: true,
            getResourceServerInfo: async (_ctx, indicator) => {
              const info = resources[indicator];
              if (!info) throw new errors.InvalidTarget();
              return info;
            },
          },
        },
        extraTokenClaims: async (_ctx, token) => ('clientId' in token && token.clientId === SERVICE_CLIENT.id ? { groups: SERVICE_CLIENT.groups } : undefined),
        findAccount: async (_ctx, id) => {
          const a = accounts.get(id);
          if (!a) return undefined;
          return {
            accountId: id,
            claims: async () => ({ sub: id, preferred_username: id, groups: a.groups, ...(a.email ? { email: a.email } : {}), ...(a.name ? { name: a.name } : {}) }),
          };
        },
        // A first-party client: consent is granted without asking.
        loadExistingGrant: async (ctx) => {
          const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
          if (grantId) return ctx.oidc.provider.Grant.find(grantId);
          const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
          grant.addOIDCScope('openid profile email groups');
          await grant.save();
          return grant;
        },
      });
      server.on('request', provider.callback());
    },
    async serviceToken(resource = 'urn:kiln') {
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${SERVICE_CLIENT.id}:${SERVICE_CLIENT.secret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'api', resource }).toString(),
      });
      const body = (await res.json()) as { access_token?: string };
      if (!res.ok || !body.access_token) throw new Error(`client_credentials: ${res.status} ${JSON.stringify(body)}`);
      return body.access_token;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
