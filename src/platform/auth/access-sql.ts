import { sql, type RawBuilder } from 'kysely';
import type { ReadFilter } from './access.js';

// Apart from access.ts so that what only needs the access types (JSON shapes the CLI prints) loads no query builder.

/**
 * The SQL condition a list or search adds for a read filter: `(project IN (…) OR resource IN (granted)) AND
 * resource NOT IN (denied)`; undefined when nothing is filtered. `id` turns a grant's resource id into the
 * column's value (undefined: the id can't name a row, it is left out).
 */
export function readCondition<Id>(filter: ReadFilter<string> | 'all', projectColumn: string, resourceColumn: string, id: (s: string) => Id | undefined): RawBuilder<boolean> | undefined {
  if (filter === 'all') return undefined;
  const ids = (xs: readonly string[]) => xs.map(id).filter((x): x is Id => x !== undefined);
  const include = ids(filter.include);
  const exclude = ids(filter.exclude);
  const list = <T>(xs: readonly T[]) => sql.join(xs.map((x) => sql`${x}`));
  const project = sql.ref(projectColumn);
  const resource = sql.ref(resourceColumn);
  const parts: RawBuilder<boolean>[] = [];
  if (filter.projects.length > 0) parts.push(sql<boolean>`${project} IN (${list(filter.projects)})`);
  if (include.length > 0) parts.push(sql<boolean>`${resource} IN (${list(include)})`);
  const readable = parts.length === 0 ? sql<boolean>`1 = 0` : parts.length === 1 ? parts[0]! : sql<boolean>`(${parts[0]!} OR ${parts[1]!})`;
  return exclude.length > 0 ? sql<boolean>`(${readable} AND ${resource} NOT IN (${list(exclude)}))` : readable;
}

/** The numeric id of a grant on an experiment (ids are integers), or undefined. */
export const numericId = (s: string): number | undefined => (/^[0-9]{1,15}$/.test(s) ? Number(s) : undefined);
