import type { ResourceDirectory } from './auth/resources.js';
import type { Secrets } from './secrets.js';
import type { Command } from 'commander';
import type { Registry } from 'prom-client';
import type { FastifyPluginAsync } from 'fastify';
import type { ArtifactStore } from './artifacts/types.js';
import type { KilnConfig } from './config.js';
import type { KilnMigration } from './db/migrate.js';
import type { MetadataStore } from './db/types.js';
import type { EventLog } from './events/log.js';
import type { AuditLog } from './audit/log.js';
import type { Logger } from './logging.js';
import type { Authenticator } from './auth/authenticator.js';
import type { ProjectAuthorizer } from './http/auth.js';

/**
 * Every capability's service, by capability name. Each capability adds its own entry from its module.ts
 * (`declare module '../platform/capability.js' { interface CapabilityServices { registry: RegistryService } }`),
 * so the platform knows no capability and the server's map of services is still fully typed.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface CapabilityServices {}

/** Options a capability takes besides KilnConfig (tests shorten its timers with them), by capability name. Added like services. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface CapabilityOptions {}

export type CapabilityName = keyof CapabilityServices & string;

type OptionsOf<N> = N extends keyof CapabilityOptions ? Partial<CapabilityOptions[N]> : undefined;

/** What the platform hands every capability: shared configuration, stores and the event log. */
export interface Platform {
  readonly config: KilnConfig;
  readonly logger: Logger;
  readonly store: MetadataStore;
  readonly artifacts: ArtifactStore;
  readonly events: EventLog;
  /**
   * The audit log (the event log's: `events.audit`). A change that emits events through `events.transaction` is
   * audited by construction; one without an event records its entry there too (its third argument), or through
   * `audit.transaction`. What changes nothing but must be on record (a refused sign-in) uses `audit.recordAlone`.
   */
  readonly audit: AuditLog;
  /**
   * Top-level folders of the artifact store that one capability owns (every capability's `artifactPrefixes`): no
   * other path reaches them (the artifact proxy refuses them, experiment locations may not point into them).
   */
  readonly reservedArtifactPrefixes: readonly string[];
  readonly now: () => number;
  /**
   * Who owns what: each capability registers a resolver for the kinds of resources it owns (their project, for
   * the route rules and for creating things in a named project).
   */
  readonly resources: ResourceDirectory;
  /** Encrypts secrets stored for later use in clear (webhook signing secrets) with the server key. */
  readonly secrets: Secrets;
  /** The server's Prometheus registry (/metrics): capabilities add their own metrics to it. */
  readonly metrics: Registry;
  /** What this process serves: `all` (the whole server) or `serving` (a `kiln serve` replica: inference only). */
  readonly role: 'all' | 'serving';
  /** Reports an error of background work (an inspection, a delivery) under the capability's name. */
  reporter(capability: string): (e: unknown, what: string) => void;
}

/** A capability as the server runs it. */
export interface CapabilityInstance<S> {
  readonly service: S;
  /** Its HTTP routes, registered as one encapsulated Fastify plugin under the capability's prefix. */
  readonly routes?: FastifyPluginAsync;
  /**
   * Routes that answer in every role, mounted at the root: a `kiln serve` replica (role `serving`) registers only
   * these (inference), the whole server both these and `routes`.
   */
  readonly dataPlane?: FastifyPluginAsync;
  /** Who the callers are (the governance capability's; one capability at most provides it). */
  readonly authenticator?: Authenticator;
  /** Decides route rules' project part (the governance capability's projects). */
  readonly projects?: ProjectAuthorizer;
  /** Starts background work of the whole server, once every capability's routes are registered (before the server listens); not in a `serving` replica. */
  start?(): void | Promise<void>;
  /** Starts the work behind `dataPlane` (in every role, after `start`). */
  serve?(): void | Promise<void>;
  /** Finishes background work; called after the HTTP server stopped, in reverse dependency order. */
  close?(): Promise<void>;
}

/**
 * A capability's `kiln` commands: the top-level names it adds, and the module that defines them (its cli.ts). The CLI
 * imports that module only when one of those commands runs, or when the whole tree is shown (`kiln --help`), so a
 * command loads no other capability's commands.
 */
export interface CapabilityCli {
  /** The top-level commands its module adds, as typed after `kiln`, in the order it adds them (checked when loaded). */
  readonly commands: readonly string[];
  /** Imports its cli.ts and returns the function that adds those commands. Must not load server code. */
  load(): Promise<(program: Command) => void>;
}

/**
 * The one place a capability plugs into the server and the CLI. module.ts files stay light (the CLI loads every
 * one of them): `create` imports the capability's server code when it runs, `migrations` its migrations and
 * `cli.load` its commands.
 */
export interface Capability<N extends CapabilityName = CapabilityName, D extends CapabilityName = CapabilityName> {
  readonly name: N;
  /** Capabilities whose services this one calls; they are created, started and routed before it. */
  readonly dependsOn: readonly D[];
  /**
   * Imports its schema changes, one file each (the runner orders every capability's migrations by their global
   * number). A loader, as for `create` and `cli`: the CLI's client commands read the module list and need none.
   */
  readonly migrations?: () => Promise<readonly KilnMigration[]>;
  /** Top-level folders of the artifact store that only this capability writes (e.g. the data capability's `datasets`). */
  readonly artifactPrefixes?: readonly string[];
  /** Where its routes are mounted (default `/api/v1`; protocol adapters mount at the root). */
  readonly prefix?: string;
  /** Its command group(s) of the `kiln` CLI. */
  readonly cli?: CapabilityCli;
  create(platform: Platform, deps: { readonly [K in D]: CapabilityServices[K] }, options: OptionsOf<N>): Promise<CapabilityInstance<CapabilityServices[N]>>;
}

/** Declares a capability (a typed identity: it fixes the name and dependency types). */
export function defineCapability<N extends CapabilityName, D extends CapabilityName = never>(c: Capability<N, D>): Capability<N, D> {
  return Object.freeze({ ...c, dependsOn: Object.freeze([...c.dependsOn]) });
}

/**
 * The capabilities in an order where each comes after what it depends on (stable: otherwise the listed order).
 * Refuses an unknown dependency, a duplicate name or a cycle.
 */
export function orderByDependencies<C extends { readonly name: string; readonly dependsOn: readonly string[] }>(list: readonly C[]): C[] {
  const byName = new Map<string, C>();
  for (const c of list) {
    if (byName.has(c.name)) throw new Error(`capability '${c.name}' is listed twice`);
    byName.set(c.name, c);
  }
  const out: C[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (c: C, path: string[]) => {
    const s = state.get(c.name);
    if (s === 'done') return;
    if (s === 'visiting') throw new Error(`capabilities depend on each other in a cycle: ${[...path, c.name].join(' → ')}`);
    state.set(c.name, 'visiting');
    for (const d of c.dependsOn) {
      const dep = byName.get(d);
      if (!dep) throw new Error(`capability '${c.name}' depends on '${d}', which is not in the module list`);
      visit(dep, [...path, c.name]);
    }
    state.set(c.name, 'done');
    out.push(c);
  };
  for (const c of list) visit(c, []);
  return out;
}
