import { defineCapability } from '../platform/capability.js';
import type { GovernanceOptions, GovernanceService } from './service.js';
import type { LoginLimiterOptions } from './login-limiter.js';
import type { RoleMapEntry } from '../platform/config.js';
import type { ProjectsService } from './projects.js';
import type { Role } from '../platform/auth/rules.js';
import { runInContext } from '../platform/auth/context.js';
import { SYSTEM } from '../platform/auth/principal.js';
import { KilnError } from '../platform/errors.js';

declare module '../platform/capability.js' {
  interface CapabilityServices {
    governance: GovernanceService;
  }
  interface CapabilityOptions {
    governance: GovernanceOptions & {
      /** Where KILN_ADMIN_USER and KILN_ADMIN_PASSWORD are read (default process.env). */
      readonly env: NodeJS.ProcessEnv;
      /** How failed sign-ins are slowed down (see LoginLimiter). */
      readonly loginLimits: Partial<LoginLimiterOptions>;
      /** The clock of sessions, tokens and caches (default the platform's; tests move time forward with it). */
      readonly now: () => number;
    };
  }
}

/**
 * Who the callers are: users (passwords hashed with scrypt), service accounts, API tokens, and the authenticator the
 * HTTP layer asks with `--auth on` (see docs/security.md and docs/design/governance.md).
 */
export const governanceCapability = defineCapability({
  name: 'governance',
  dependsOn: [],
  migrations: async () => (await import('./migrations/index.js')).GOVERNANCE_MIGRATIONS,
  cli: {
    commands: ['login', 'logout', 'whoami', 'tokens', 'users', 'admin', 'audit', 'projects', 'groups'],
    load: async () => {
      const [{ registerGovernanceCommands }, { registerAuditCommands }, { registerProjectCommands }] = await Promise.all([import('./cli.js'), import('./audit-cli.js'), import('./project-cli.js')]);
      return (program) => {
        registerGovernanceCommands(program);
        registerAuditCommands(program);
        registerProjectCommands(program);
      };
    },
  },
  async create(platform, _deps, options) {
    const [{ GovernanceService }, { GovernanceStore }, { authOnAuthenticator }, { governanceRoutes }, { auditRoutes }, { sessionRoutes }, { ProjectsService }, { projectRoutes }, { grantFollower }, { OidcClient, oidcSettings }, { ssoRoutes }] = await Promise.all([
      import('./service.js'),
      import('./store.js'),
      import('./authenticator.js'),
      import('./routes.js'),
      import('./audit-routes.js'),
      import('./session-routes.js'),
      import('./projects.js'),
      import('./project-routes.js'),
      import('./grant-follower.js'),
      import('./oidc.js'),
      import('./sso-routes.js'),
    ]);
    const { env = process.env, loginLimits, now = platform.now, ...serviceOptions } = options ?? {};
    const sessionTimes = { sessionTtlMs: platform.config.sessionTtlMs, sessionIdleMs: platform.config.sessionIdleTimeoutMs };
    const governance = new GovernanceService(
      new GovernanceStore(platform.store.db.withTables(), platform.store.adapter, platform.audit),
      { ...sessionTimes, ...serviceOptions },
      now,
      platform.reporter('governance'),
    );
    const mode = platform.config.auth;
    const projects = new ProjectsService(platform.store.db.withTables(), platform.store.adapter, platform.audit, platform.resources, governance.options.recheckMs, platform.now);
    // A grant, an admin flag or a user changed here: the access sets computed before are stale.
    governance.onChange(() => projects.invalidate());
    if (mode === 'on') {
      const outcome = await governance.bootstrapAdmin(env.KILN_ADMIN_USER, env.KILN_ADMIN_PASSWORD);
      if (outcome === 'created') platform.logger.info({ user: env.KILN_ADMIN_USER }, 'created the first admin from KILN_ADMIN_USER');
      if (outcome === 'no-users') {
        platform.logger.warn('auth is on and there is no user yet: set KILN_ADMIN_USER and KILN_ADMIN_PASSWORD at start, or run `kiln admin create-user NAME --admin --store URI`');
      }
    }
    let follower: { close(): Promise<void> } | undefined;
    // Single sign-on and provider JWTs (KILN_OIDC_*): only with --auth on.
    const sso = oidcSettings(platform.config);
    if (sso && mode !== 'on') platform.logger.warn('KILN_OIDC_ISSUER is set but auth is off (--auth none): single sign-on is not offered');
    const oidc = sso && mode === 'on' ? new OidcClient(sso, now) : undefined;
    // With --auth none the platform's open authenticator answers (no capability provides one), and no project rule is checked.
    const authenticator = mode === 'on' ? authOnAuthenticator(governance, platform.audit, platform.reporter('governance'), loginLimits, oidc) : undefined;
    const roleMap = async (groups?: readonly string[]) => {
      if (!oidc) return;
      const missing = await applyRoleMap(projects, oidc.settings.roleMap, groups, platform.reporter('governance'));
      if (groups === undefined && missing.length > 0) platform.logger.warn({ projects: missing }, 'KILN_OIDC_ROLE_MAP names projects that do not exist yet: their group memberships are added at the first sign-in after they are created');
    };
    await roleMap();
    return {
      service: governance,
      ...(authenticator ? { authenticator, projects } : {}),
      routes: async (app) => {
        await governanceRoutes(app, { governance, mode });
        await sessionRoutes(app, { governance, mode, authenticator, sso: oidc !== undefined });
        // Registered in every mode (listed in the docs and route rules); 404 without single sign-on.
        await ssoRoutes(app, { governance, oidc, authenticator, onSignIn: (p) => roleMap(p.groups ?? []) });
        await auditRoutes(app, { audit: platform.audit });
        await projectRoutes(app, { projects, resources: platform.resources });
      },
      // Grants on registered models follow their model's renames (see grant-follower.ts).
      async start() {
        follower = await platform.events.consume(grantFollower(governance, platform.audit));
      },
      async close() {
        await follower?.close();
      },
    };
  },
});

/**
 * Makes the project memberships of KILN_OIDC_ROLE_MAP's `group=project:role` entries (of the given groups, or all)
 * what the map says: a member of kind `group` with that role, written as the server (audited as `system`). Runs at
 * start and at each single sign-on (for the groups of the user), so projects created later are covered. Returns the
 * projects that do not exist.
 */
export async function applyRoleMap(projects: ProjectsService, entries: readonly RoleMapEntry[], groups: readonly string[] | undefined, report: (e: unknown, what: string) => void): Promise<string[]> {
  const missing: string[] = [];
  await runInContext({ principal: SYSTEM, requestId: 'oidc-role-map', source: 'server' }, async () => {
    for (const e of entries) {
      if (e.admin || (groups !== undefined && !groups.includes(e.group))) continue;
      try {
        const had = (await projects.members(e.project)).find((m) => m.kind === 'group' && m.name === e.group);
        if (had?.role !== e.role) await projects.setMember(e.project, { kind: 'group', name: e.group }, e.role as Role);
      } catch (x) {
        if (x instanceof KilnError && x.code === 'RESOURCE_DOES_NOT_EXIST') missing.push(e.project);
        else report(x, `applying KILN_OIDC_ROLE_MAP's ${e.group}=${e.project}:${e.role}`);
      }
    }
  });
  return missing;
}
