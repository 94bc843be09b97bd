import type { FastifyRequest } from 'fastify';
import { actorFromHeaders } from '../actor.js';
import { openPrincipal, type Principal } from './principal.js';

/**
 * Turns a request's credentials into a principal. The governance capability provides the one that checks
 * passwords, tokens and sessions; without it (or with `--auth none`) the open one answers.
 */
export interface Authenticator {
  /** `on`: every non-public route needs an identity. `none`: every caller is trusted (loopback only). */
  readonly mode: 'on' | 'none';
  /**
   * The principal of the credentials the request carries, or undefined when it carries none. Throws a KilnError
   * (UNAUTHENTICATED) for credentials that are wrong, expired or revoked.
   */
  authenticate(req: FastifyRequest): Promise<Principal | undefined>;
}

/** `--auth none`: everyone may do everything; the name recorded is what the request says (X-Kiln-User, basic auth's user). */
export const OPEN_AUTHENTICATOR: Authenticator = {
  mode: 'none',
  authenticate: async (req) => openPrincipal(actorFromHeaders(req.headers).user),
};
