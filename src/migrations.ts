import type { Capability } from './platform/capability.js';
import type { KilnMigration } from './platform/db/index.js';
import { PLATFORM_MIGRATIONS } from './platform/migrations.js';
import { MODULES } from './modules.js';

/** The platform's migrations and those of the given capabilities (the runner orders them by name). */
export async function migrationsOf(modules: readonly Capability[]): Promise<KilnMigration[]> {
  const own = await Promise.all(modules.map(async (m) => (await m.migrations?.()) ?? []));
  return [...PLATFORM_MIGRATIONS, ...own.flat()];
}

/** Every migration of the server: a static list (no directory scan), so it works from dist/. */
export const MIGRATIONS: readonly KilnMigration[] = await migrationsOf(MODULES);
