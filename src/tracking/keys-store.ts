import { sql, type Kysely } from 'kysely';
import type { TrackingTables } from './tables.js';

export interface ExperimentKeys {
  readonly metrics: string[];
  readonly params: string[];
  readonly tags: string[];
}

/** At most this many keys of each kind are listed (a column picker has no use for more). */
export const MAX_KEYS = 2000;

const TABLES = { metrics: 'latest_metrics', params: 'params', tags: 'tags' } as const;

/**
 * The distinct metric, param and tag keys over an experiment's active runs.
 *
 * A plain `SELECT DISTINCT key ... JOIN runs` reads every value row of the experiment (500,000 rows for
 * 100,000 runs with 5 keys each). Instead, the distinct keys of the whole table are walked through the
 * (key, value) index one key at a time (a recursive "loose index scan", one index seek per key), and each key
 * is kept when one active run of the experiment has it (an EXISTS that stops at its first match). Cost grows
 * with the number of distinct keys, not with the number of runs. A key used only by other experiments costs
 * a scan of that key's rows.
 */
export class RunKeysStore {
  constructor(private readonly db: Kysely<TrackingTables>) {}

  async experimentKeys(experimentId: number): Promise<ExperimentKeys> {
    const [metrics, params, tags] = await Promise.all((['metrics', 'params', 'tags'] as const).map((k) => this.keysOf(TABLES[k], experimentId)));
    return { metrics: metrics!, params: params!, tags: tags! };
  }

  private async keysOf(table: 'latest_metrics' | 'params' | 'tags', experimentId: number): Promise<string[]> {
    const t = sql.table(table);
    const rows = await sql<{ key: string }>`
      WITH RECURSIVE k(key) AS (
        SELECT MIN(key) FROM ${t}
        UNION ALL
        SELECT (SELECT MIN(x.key) FROM ${t} AS x WHERE x.key > k.key) FROM k WHERE k.key IS NOT NULL
      )
      SELECT k.key AS key FROM k
      WHERE k.key IS NOT NULL
        AND EXISTS (
          SELECT 1 FROM ${t} AS v JOIN runs ON runs.run_id = v.run_id
          WHERE v.key = k.key AND runs.experiment_id = ${experimentId} AND runs.lifecycle_stage = 'active'
        )
      ORDER BY k.key
      LIMIT ${MAX_KEYS}`.execute(this.db);
    return rows.rows.map((r) => r.key);
  }
}
