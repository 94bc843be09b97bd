/** How a request proved who it is. */
export type AuthMethod = 'none' | 'password' | 'token' | 'session' | 'oidc' | 'jwt' | 'system';

/**
 * What an API token may be used for. A token's scopes bound what its owner's roles allow: `read` reaches viewer
 * rules, `write` editor and maintainer rules, `admin` owner and admin rules, `infer` only inference endpoints.
 */
export type Scope = 'read' | 'write' | 'admin' | 'infer';
export const SCOPES: readonly Scope[] = ['read', 'write', 'admin', 'infer'];

/** Who is calling. */
export interface Principal {
  readonly kind: 'user' | 'service' | 'anonymous' | 'system';
  /** Stable id (a user's id; '' for anonymous). */
  readonly id: string;
  /** The name recorded in histories and the audit log. */
  readonly name: string;
  /** A server admin: every project, every rule. */
  readonly admin: boolean;
  readonly method: AuthMethod;
  /** The scopes of the token the request used; 'all' for passwords, sessions and `--auth none`. */
  readonly scopes: readonly Scope[] | 'all';
  /** The token the request used, when it used one. */
  readonly tokenId?: string;
  /** Groups the identity provider says it belongs to (single sign-on); local groups are looked up besides. */
  readonly groups?: readonly string[];
}

/** The caller of `--auth none`: anyone who reaches the loopback server, named by what the request says (attribution only). */
export function openPrincipal(name: string): Principal {
  return { kind: 'anonymous', id: '', name, admin: true, method: 'none', scopes: 'all' };
}

/** Background work of the server itself (consumers, schedulers). */
export const SYSTEM: Principal = Object.freeze({ kind: 'system', id: 'system', name: 'system', admin: true, method: 'system', scopes: 'all' });

export function hasScope(p: Principal, scope: Scope): boolean {
  return p.scopes === 'all' || p.scopes.includes(scope);
}
