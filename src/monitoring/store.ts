/** The monitoring tables: monitors, window counts, predictions kept for labels, alerts. Only this capability reads them. */
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { readableProjects } from '../platform/auth/access.js';
import type { StoreAdapter } from '../platform/db/adapter.js';
import type { Updateable } from 'kysely';
import type { AlertsTable, MonitoringTables, MonitorsTable, PredictionsTable, WindowPartsTable } from './tables.js';

export type MonitorRow = Selectable<MonitorsTable>;
export type PartRow = Selectable<WindowPartsTable>;
export type AlertRow = Selectable<AlertsTable>;
export type PredictionRow = PredictionsTable;
type Db = Kysely<MonitoringTables> | Transaction<MonitoringTables>;

/** Rows per multi-row statement (well under SQLite's and PostgreSQL's parameter limits). */
const CHUNK = 500;

export class MonitoringStore {
  constructor(
    readonly db: Kysely<MonitoringTables>,
    readonly adapter: StoreAdapter,
  ) {}

  isUniqueViolation(e: unknown): boolean {
    return this.adapter.isUniqueViolation(e);
  }

  // ------------------------------------------------------------------ monitors
  async monitor(name: string, db: Db = this.db): Promise<MonitorRow | undefined> {
    return db.selectFrom('monitoring_monitors').selectAll().where('name', '=', name).executeTakeFirst();
  }

  /**
   * Marks records as arrived and returns the row: the write comes first, so on PostgreSQL the row stays locked until
   * the transaction ends (two replicas filling the same row-count window take turns).
   */
  async touchMonitor(trx: Transaction<MonitoringTables>, pk: number, time: number): Promise<MonitorRow | undefined> {
    await trx.updateTable('monitoring_monitors').set({ last_record_time: time }).where('monitor_pk', '=', pk).execute();
    return trx.selectFrom('monitoring_monitors').selectAll().where('monitor_pk', '=', pk).executeTakeFirst();
  }

  async monitorProject(name: string): Promise<number | undefined> {
    const r = await this.db.selectFrom('monitoring_monitors').select('project_id').where('name', '=', name).executeTakeFirst();
    return r ? Number(r.project_id) : undefined;
  }

  async projectHoldsMonitors(projectId: number): Promise<boolean> {
    return !!(await this.db.selectFrom('monitoring_monitors').select('monitor_pk').where('project_id', '=', projectId).limit(1).executeTakeFirst());
  }

  /** Monitors the caller can read (filtered in the query), by name. */
  async list(offset: number, limit: number, project?: number): Promise<MonitorRow[]> {
    let q = this.db.selectFrom('monitoring_monitors').selectAll();
    const readable = readableProjects();
    if (readable !== 'all') q = readable.length === 0 ? q.where(sql<boolean>`1 = 0`) : q.where('project_id', 'in', [...readable]);
    if (project !== undefined) q = q.where('project_id', '=', project);
    return q.orderBy('name').offset(offset).limit(limit).execute();
  }

  async all(): Promise<MonitorRow[]> {
    return this.db.selectFrom('monitoring_monitors').selectAll().orderBy('name').execute();
  }

  async ofDeployments(): Promise<MonitorRow[]> {
    return this.db.selectFrom('monitoring_monitors').selectAll().where('deployment', 'is not', null).execute();
  }

  async insertMonitor(trx: Transaction<MonitoringTables>, row: Omit<MonitorsTable, 'monitor_pk' | 'open_window' | 'open_rows'>): Promise<number> {
    const r = await trx.insertInto('monitoring_monitors').values(row).returning('monitor_pk').executeTakeFirstOrThrow();
    return Number(r.monitor_pk);
  }

  async updateMonitor(trx: Transaction<MonitoringTables>, pk: number, patch: Updateable<MonitorsTable>): Promise<void> {
    await trx.updateTable('monitoring_monitors').set(patch).where('monitor_pk', '=', pk).execute();
  }

  async deleteMonitor(trx: Transaction<MonitoringTables>, pk: number): Promise<void> {
    // Children first: SQLite enforces the cascade only with foreign keys on.
    await trx.deleteFrom('monitoring_window_parts').where('monitor_pk', '=', pk).execute();
    await trx.deleteFrom('monitoring_predictions').where('monitor_pk', '=', pk).execute();
    await trx.deleteFrom('monitoring_alerts').where('monitor_pk', '=', pk).execute();
    await trx.deleteFrom('monitoring_monitors').where('monitor_pk', '=', pk).execute();
  }

  // ------------------------------------------------------------------ windows
  async insertParts(trx: Transaction<MonitoringTables>, parts: readonly Omit<WindowPartsTable, 'part_pk'>[]): Promise<void> {
    for (let i = 0; i < parts.length; i += CHUNK) await trx.insertInto('monitoring_window_parts').values(parts.slice(i, i + CHUNK)).execute();
  }

  /** Writes a serving process's running part of a window: replaces its counts when `partPk` is still there, else inserts one. */
  async putPart(trx: Transaction<MonitoringTables>, partPk: number | undefined, part: Omit<WindowPartsTable, 'part_pk'>): Promise<number> {
    if (partPk !== undefined) {
      const r = await trx.updateTable('monitoring_window_parts').set({ rows: part.rows, counts: part.counts, time: part.time }).where('part_pk', '=', partPk).where('monitor_pk', '=', part.monitor_pk).executeTakeFirst();
      if (Number(r.numUpdatedRows) > 0) return partPk;
    }
    const r = await trx.insertInto('monitoring_window_parts').values(part).returning('part_pk').executeTakeFirstOrThrow();
    return Number(r.part_pk);
  }

  /** The parts of the windows starting in [from, to] (either bound optional), oldest first. */
  async parts(pk: number, from?: number, to?: number, db: Db = this.db): Promise<PartRow[]> {
    let q = db.selectFrom('monitoring_window_parts').selectAll().where('monitor_pk', '=', pk);
    if (from !== undefined) q = q.where('window_start', '>=', from);
    if (to !== undefined) q = q.where('window_start', '<=', to);
    return q.orderBy('window_start').orderBy('part_pk').execute();
  }

  /** The starts of the `limit` latest windows (at most `before`, when given), newest first. */
  async windowStarts(pk: number, limit: number, before?: number): Promise<number[]> {
    let q = this.db.selectFrom('monitoring_window_parts').select('window_start').distinct().where('monitor_pk', '=', pk);
    if (before !== undefined) q = q.where('window_start', '<=', before);
    const rows = await q.orderBy('window_start', 'desc').limit(limit).execute();
    return rows.map((r) => Number(r.window_start));
  }

  // ------------------------------------------------------------------ predictions and labels
  /** Keeps predictions for joining labels; a request id seen again keeps its first window and prediction, takes a newer label. */
  async putPredictions(trx: Transaction<MonitoringTables>, rows: readonly PredictionRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += CHUNK) {
      await trx
        .insertInto('monitoring_predictions')
        .values(rows.slice(i, i + CHUNK))
        .onConflict((oc) =>
          oc.columns(['monitor_pk', 'request_id']).doUpdateSet((eb) => ({
            label: sql`coalesce(${eb.ref('excluded.label')}, ${eb.ref('monitoring_predictions.label')})`,
            label_time: sql`coalesce(${eb.ref('excluded.label_time')}, ${eb.ref('monitoring_predictions.label_time')})`,
          })),
        )
        .execute();
    }
  }

  /** Sets labels by request id (the last of `labels` wins for a repeated id); returns the rows it matched. */
  async setLabels(trx: Transaction<MonitoringTables>, pk: number, labels: ReadonlyMap<string, string>, time: number): Promise<{ request_id: string; window_start: number }[]> {
    const entries = [...labels];
    const out: { request_id: string; window_start: number }[] = [];
    for (let i = 0; i < entries.length; i += CHUNK) {
      const chunk = entries.slice(i, i + CHUNK);
      const values = sql.join(chunk.map(([id, label]) => sql`(${id}, ${label})`));
      const r = await sql<{ request_id: string; window_start: number }>`
        WITH v(request_id, label) AS (VALUES ${values})
        UPDATE monitoring_predictions
        SET label = (SELECT v.label FROM v WHERE v.request_id = monitoring_predictions.request_id), label_time = ${time}
        WHERE monitor_pk = ${pk} AND request_id IN (SELECT v.request_id FROM v)
        RETURNING request_id, window_start`.execute(trx);
      out.push(...r.rows.map((x) => ({ request_id: x.request_id, window_start: Number(x.window_start) })));
    }
    return out;
  }

  /** Labeled predictions of the windows starting in [from, to]. */
  async labeled(pk: number, from?: number, to?: number): Promise<{ window_start: number; prediction: string | null; score: number | null; label: string }[]> {
    let q = this.db.selectFrom('monitoring_predictions').select(['window_start', 'prediction', 'score', 'label']).where('monitor_pk', '=', pk).where('label', 'is not', null);
    if (from !== undefined) q = q.where('window_start', '>=', from);
    if (to !== undefined) q = q.where('window_start', '<=', to);
    const rows = await q.execute();
    return rows.map((r) => ({ window_start: Number(r.window_start), prediction: r.prediction, score: r.score === null ? null : Number(r.score), label: r.label! }));
  }

  // ------------------------------------------------------------------ alerts
  async firing(pk: number, db: Db = this.db): Promise<AlertRow[]> {
    return db.selectFrom('monitoring_alerts').selectAll().where('monitor_pk', '=', pk).where('state', '=', 'FIRING').execute();
  }

  async firingCount(pk: number): Promise<number> {
    const r = await this.db.selectFrom('monitoring_alerts').select((eb) => eb.fn.countAll().as('n')).where('monitor_pk', '=', pk).where('state', '=', 'FIRING').executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async insertAlert(trx: Transaction<MonitoringTables>, row: Omit<AlertsTable, 'alert_pk'>): Promise<number> {
    const r = await trx.insertInto('monitoring_alerts').values(row).returning('alert_pk').executeTakeFirstOrThrow();
    return Number(r.alert_pk);
  }

  async resolveAlert(trx: Transaction<MonitoringTables>, alertPk: number, time: number): Promise<boolean> {
    const r = await trx.updateTable('monitoring_alerts').set({ state: 'RESOLVED', resolved_at: time }).where('alert_pk', '=', alertPk).where('state', '=', 'FIRING').executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async alerts(pk: number, limit: number): Promise<AlertRow[]> {
    return this.db.selectFrom('monitoring_alerts').selectAll().where('monitor_pk', '=', pk).orderBy('fired_at', 'desc').orderBy('alert_pk', 'desc').limit(limit).execute();
  }
}
