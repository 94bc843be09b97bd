import type { FastifyRequest } from 'fastify';
import { KilnError } from '../platform/errors.js';
import { OPEN_AUTHENTICATOR, type Authenticator } from '../platform/auth/authenticator.js';
import type { Principal } from '../platform/auth/principal.js';
import { parseToken } from './tokens.js';
import type { GovernanceService } from './service.js';

/**
 * `--auth on`: the credentials of the Authorization header. `Bearer kiln_…` is an API token (MLflow clients send
 * MLFLOW_TRACKING_TOKEN this way); `Basic` is a user name and password (MLFLOW_TRACKING_USERNAME/PASSWORD), or any
 * user name with an API token as the password (for tools that only speak basic auth). `--auth none`: the open one.
 */
export function governanceAuthenticator(service: GovernanceService, mode: 'on' | 'none'): Authenticator {
  if (mode === 'none') return OPEN_AUTHENTICATOR;
  return {
    mode,
    async authenticate(req: FastifyRequest): Promise<Principal | undefined> {
      const header = req.headers.authorization;
      if (header === undefined || header === '') return undefined;
      const space = header.indexOf(' ');
      const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
      const value = space < 0 ? '' : header.slice(space + 1).trim();
      if (scheme === 'bearer') return service.authenticateToken(value);
      if (scheme === 'basic') {
        const decoded = Buffer.from(value, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon < 0) throw new KilnError('UNAUTHENTICATED', 'Malformed basic credentials: expected base64 of user:password.');
        const user = decoded.slice(0, colon);
        const password = decoded.slice(colon + 1);
        if (parseToken(password)) return service.authenticateToken(password);
        return service.authenticatePassword(user, password);
      }
      throw new KilnError('UNAUTHENTICATED', `Unsupported Authorization scheme '${scheme}': use Bearer <API token> or Basic <user:password>.`);
    },
  };
}
