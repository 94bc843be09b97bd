/**
 * After adding a migration: `npm run db:snapshot` locks the new migration's emitted SQL in
 * test/fixtures/db/migrations.lock.json and rewrites the schema snapshots (schema.sqlite.json,
 * schema.postgres.json) from freshly migrated empty databases. Needs the test PostgreSQL (KILN_TEST_PG_URI,
 * default postgresql://postgres@127.0.0.1:5432/test).
 *
 * It never changes an existing lock entry: a shipped migration has run on databases we cannot reach, so its
 * SQL is fixed. It stops, writing nothing, when one has changed or disappeared.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { openStore, migrateToLatest } from '../src/platform/db/index.js';
import { MIGRATIONS } from '../src/migrations.js';
import { freshStore } from '../test/support/backends.js';
import { checkLock, readLock, writeLock, LOCK_PATH } from '../test/support/migration-lock.js';
import { formatSnapshot, introspect, snapshotPath, writeSnapshot, type Dialect } from '../test/support/schema.js';

async function main(): Promise<number> {
  const lock = readLock();
  const check = await checkLock(MIGRATIONS, lock);
  if (check.missing.length > 0 || check.changed.length > 0) {
    for (const name of check.missing) {
      console.error(`${name} is locked but no longer in MIGRATIONS (src/migrations.ts): a shipped migration is never removed or renamed.`);
    }
    for (const c of check.changed) {
      console.error(`${c.name} now emits different SQL (${c.dialects.join(', ')}) than when it was locked: a shipped migration is never edited. Restore it and add a new migration for the change.`);
    }
    console.error(`Nothing written: ${relative(process.cwd(), LOCK_PATH)} keeps its entries.`);
    return 1;
  }
  if (check.unlocked.length > 0) {
    writeLock({ ...lock, ...Object.fromEntries(check.unlocked.map((u) => [u.name, u.entry])) });
    for (const u of check.unlocked) console.log(`locked ${u.name}`);
  } else {
    console.log('lock: every migration already locked');
  }

  for (const dialect of ['sqlite', 'postgres'] as const satisfies readonly Dialect[]) {
    const fresh = await freshStore(dialect);
    try {
      const store = await openStore(fresh.uri);
      try {
        await migrateToLatest(store, MIGRATIONS);
        const snapshot = await introspect(store);
        const before = readIfExists(snapshotPath(dialect));
        writeSnapshot(snapshot);
        console.log(`${relative(process.cwd(), snapshotPath(dialect))}: ${before === formatSnapshot(snapshot) ? 'unchanged' : 'written'}`);
      } finally {
        await store.close();
      }
    } finally {
      await fresh.drop();
    }
  }
  return 0;
}

function readIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
