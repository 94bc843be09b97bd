import { defineCapability } from '../platform/capability.js';
import type { GovernanceOptions, GovernanceService } from './service.js';
import type { LoginLimiterOptions } from './login-limiter.js';

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
    const [{ GovernanceService }, { GovernanceStore }, { authOnAuthenticator }, { governanceRoutes }, { auditRoutes }, { sessionRoutes }, { ProjectsService }, { projectRoutes }, { grantFollower }] = await Promise.all([
      import('./service.js'),
      import('./store.js'),
      import('./authenticator.js'),
      import('./routes.js'),
      import('./audit-routes.js'),
      import('./session-routes.js'),
      import('./projects.js'),
      import('./project-routes.js'),
      import('./grant-follower.js'),
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
    // With --auth none the platform's open authenticator answers (no capability provides one), and no project rule is checked.
    const authenticator = mode === 'on' ? authOnAuthenticator(governance, platform.audit, platform.reporter('governance'), loginLimits) : undefined;
    return {
      service: governance,
      ...(authenticator ? { authenticator, projects } : {}),
      routes: async (app) => {
        await governanceRoutes(app, { governance, mode });
        await sessionRoutes(app, { governance, mode, authenticator });
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
