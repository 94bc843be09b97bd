import type { IncomingHttpHeaders } from 'node:http';
import { invalid } from './errors.js';
import { authenticatedName } from './auth/context.js';

/** Who is acting: recorded in histories and audit trails. */
export interface Actor {
  readonly user: string;
}

export const ANONYMOUS: Actor = { user: 'anonymous' };

/**
 * The caller's identity as the request states it: the `X-Kiln-User` header (the SDK and CLI send it), else the user
 * name of HTTP basic auth (MLflow clients send it when MLFLOW_TRACKING_USERNAME is set), else `anonymous`.
 * These are attributions, not proofs, used only without authentication (`--auth none`).
 */
export function actorFromHeaders(headers: IncomingHttpHeaders): Actor {
  // Signed in (`--auth on`), the caller is who authenticated: what the request says is not asked.
  const signedIn = authenticatedName();
  if (signedIn !== undefined) return { user: signedIn };
  const header = headers['x-kiln-user'];
  if (typeof header === 'string' && header !== '') return { user: checkUser(decodeHeader(header)) };
  const auth = headers.authorization;
  if (typeof auth === 'string' && /^basic /i.test(auth)) {
    const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
    const user = decoded.split(':')[0] ?? '';
    if (user !== '') return { user: checkUser(user) };
  }
  return ANONYMOUS;
}

function decodeHeader(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

function checkUser(user: string): string {
  // eslint-disable-next-line no-control-regex
  if (user.length > 256 || /[\u0000-\u001f\u007f]/.test(user)) throw invalid('Invalid user name in X-Kiln-User or basic auth: at most 256 printable characters.');
  return user;
}
