import { AsyncResource } from 'node:async_hooks';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { KilnError } from '../errors.js';
import type { Authenticator } from '../auth/authenticator.js';
import { runInContext, type RequestContext } from '../auth/context.js';
import { hasScope, type Principal } from '../auth/principal.js';
import { scopeOf, type RouteRule } from '../auth/rules.js';
import { ALL_ACCESS, type AccessSet } from '../auth/access.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling; set before any handler runs (undefined only on public routes without credentials). */
    principal: Principal | undefined;
    /** What the caller may reach (set with the principal; everything without projects, for admins and with `--auth none`). */
    access: AccessSet | undefined;
  }
  interface FastifyInstance {
    /**
     * Decides a call that does not arrive as an HTTP route (a gRPC method) with the same authentication and rules as
     * the routes: returns the context to run its work in, or throws the same 401/403/404 KilnErrors.
     */
    authorizeCall(call: OutsideCall): Promise<RequestContext>;
  }
}

/** A call from outside Fastify's routes: its credentials (as HTTP headers), where it came from, and the rule it falls under. */
export interface OutsideCall {
  readonly headers: Record<string, string | undefined>;
  readonly ip: string;
  readonly id: string;
  /** What it is called in messages (e.g. `gRPC ModelInfer`). */
  readonly name: string;
  readonly rule: RouteRule;
  /** Where the rule's id extractor finds the resource (as route parameters). */
  readonly params: Record<string, string>;
}

/** A registered route and its rule, as the route listing (docs, the RBAC test) shows it. */
export interface RouteEntry {
  readonly method: string;
  readonly url: string;
  readonly rule: RouteRule | undefined;
}

/**
 * Refuses to let the server start with a route that declares no rule (`config.permission`), and keeps the list of
 * routes with their rules. Installed on the root instance before any route is registered; checked when the server
 * becomes ready (after every plugin's own onRoute hooks have run, which may fill in a rule, as the UI's does).
 */
export function installRouteRules(app: FastifyInstance): () => RouteEntry[] {
  const routes: RouteOptions[] = [];
  app.addHook('onRoute', (opts) => {
    routes.push(opts);
  });
  const list = (): RouteEntry[] =>
    routes.flatMap((r) => (Array.isArray(r.method) ? r.method : [r.method]).map((method) => ({ method: String(method), url: r.url, rule: r.config?.permission })));
  app.addHook('onReady', async () => {
    const missing = list().filter((r) => r.rule === undefined);
    if (missing.length > 0) {
      throw new Error(`every route must declare who may call it (config.permission); these do not: ${missing.map((r) => `${r.method} ${r.url}`).join(', ')}`);
    }
  });
  return list;
}

/** Decides a rule's project part (the governance capability's projects); absent: every identity passes it. */
export interface ProjectAuthorizer {
  /** What the principal may reach (computed once per request, before its handler; admins reach everything). */
  accessOf(principal: Principal): Promise<AccessSet>;
  /**
   * Throws RESOURCE_DOES_NOT_EXIST (404) when the caller may not read the resource the rule names, PERMISSION_DENIED
   * (403) when it may read it but its role is below the rule's.
   */
  check(principal: Principal, access: AccessSet, rule: Extract<RouteRule, { access: 'project' }>, req: FastifyRequest): Promise<void>;
}

/**
 * Authenticates every request and enforces its route's rule before the handler runs: 401 without an identity where
 * one is needed, 403 when the identity or its token's scope is not enough. The request's work then runs in its
 * RequestContext (principal, request id, source address).
 */
export function installAuthentication(app: FastifyInstance, authenticator: Authenticator, projects?: ProjectAuthorizer): void {
  app.decorateRequest('principal', undefined);
  app.decorateRequest('access', undefined);
  app.decorate('authorizeCall', async (call: OutsideCall): Promise<RequestContext> => {
    // The same steps as a route's hooks, on a stand-in for the request (what authenticators and rules read of one).
    const req = { headers: call.headers, ip: call.ip, id: call.id, method: 'CALL', url: call.name, params: call.params, query: {}, body: undefined, routeOptions: { url: call.name, config: { permission: call.rule } } } as unknown as FastifyRequest;
    const rule = call.rule;
    const p = rule.access === 'public' ? await authenticator.authenticate(req).catch(() => undefined) : await authenticator.authenticate(req);
    const access = projects && p && !p.admin ? await projects.accessOf(p) : ALL_ACCESS;
    if (rule.access !== 'public') {
      if (p === undefined) throw new KilnError('UNAUTHENTICATED', 'Authentication required: send an API token (authorization: Bearer …) or basic auth.');
      const scope = scopeOf(rule);
      if (scope !== undefined && !hasScope(p, scope)) throw new KilnError('PERMISSION_DENIED', `This token lacks the '${scope}' scope that ${call.name} needs.`);
      if (rule.access === 'admin' && !p.admin) throw new KilnError('PERMISSION_DENIED', `Only a server admin may call ${call.name}.`);
      if (rule.access === 'project' && projects && !p.admin) await projects.check(p, access, rule, req);
    }
    return { principal: p ?? { kind: 'anonymous', id: '', name: 'anonymous', admin: false, method: 'none', scopes: [] }, requestId: call.id, source: call.ip, access };
  });
  const scopes = new WeakMap<FastifyRequest, AsyncResource>();
  app.addHook('onRequest', async (req) => {
    const rule = req.routeOptions.config?.permission;
    if (rule?.access === 'public') {
      // Credentials on a public route are used when they are good and ignored otherwise.
      req.principal = await authenticator.authenticate(req).catch(() => undefined);
    } else {
      req.principal = await authenticator.authenticate(req);
    }
    req.access = projects && req.principal && !req.principal.admin ? await projects.accessOf(req.principal) : ALL_ACCESS;
  });
  app.addHook('onRequest', (req, _reply, done) => {
    const principal = req.principal;
    if (principal === undefined) return done();
    const ctx: RequestContext = { principal, requestId: req.id, source: req.ip, access: req.access ?? ALL_ACCESS };
    runInContext(ctx, () => {
      // Body parsing may leave the context; the handler's hooks re-enter it through this resource.
      scopes.set(req, new AsyncResource('kiln-request'));
      done();
    });
  });
  app.addHook('preValidation', (req, _reply, done) => {
    const scope = scopes.get(req);
    if (scope) scope.runInAsyncScope(done);
    else done();
  });
  // Before the schema validation, once the body is parsed: a caller the rule refuses learns nothing from the route's
  // validation (what a body must hold), and the answer to a resource it may not read is the same 404 whatever it sent.
  app.addHook('preValidation', async (req) => {
    const rule = req.routeOptions.config?.permission;
    if (rule === undefined || rule.access === 'public') return;
    const p = req.principal;
    if (p === undefined) throw new KilnError('UNAUTHENTICATED', 'Authentication required: send an API token (Authorization: Bearer …), basic auth, or sign in.');
    const scope = scopeOf(rule);
    if (scope !== undefined && !hasScope(p, scope)) {
      throw new KilnError('PERMISSION_DENIED', `This token lacks the '${scope}' scope that ${req.method} ${req.routeOptions.url} needs.`);
    }
    if (rule.access === 'admin' && !p.admin) throw new KilnError('PERMISSION_DENIED', `Only a server admin may call ${req.method} ${req.routeOptions.url}.`);
    if (rule.access === 'project' && projects && !p.admin) await projects.check(p, req.access ?? ALL_ACCESS, rule, req);
  });
}
