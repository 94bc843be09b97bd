import { AsyncLocalStorage } from 'node:async_hooks';
import type { Principal } from './principal.js';
import type { AccessSet } from './access.js';

/** What a request's work knows about who asked, wherever it runs (services and stores read it; see docs/design/governance.md). */
export interface RequestContext {
  readonly principal: Principal;
  readonly requestId: string;
  /** The client's address as the server saw it. */
  readonly source: string;
  /** What the caller may reach (see access.ts); absent: everything (`--auth none`, admins, the server's own work). */
  readonly access?: AccessSet;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` (and everything it starts) as the given request. */
export function runInContext<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

/** The context of the request being served, or undefined outside any request (background work, the CLI). */
export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

/** The name of the signed-in caller of the request being served; undefined without authentication or outside a request. */
export function authenticatedName(): string | undefined {
  const p = storage.getStore()?.principal;
  return p && p.method !== 'none' && p.method !== 'system' ? p.name : undefined;
}
