/** The serving tables: deployments, their revisions, the payload log. Only the serving capability reads or writes them. */
import { CompiledQuery, sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { readableProjects } from '../platform/auth/access.js';
import type { StoreAdapter } from '../platform/db/adapter.js';
import type { DeploymentsTable, PayloadsTable, RevisionsTable, ServingTables } from './tables.js';

export type DeploymentRow = Selectable<DeploymentsTable>;
export type RevisionRow = Selectable<RevisionsTable>;
export type PayloadRow = Selectable<PayloadsTable>;
export type NewPayload = Omit<PayloadsTable, 'payload_pk'>;
type Db = Kysely<ServingTables> | Transaction<ServingTables>;

/** A deployment with the revision in force. */
export type CurrentRow = DeploymentRow & { kind: string; config: string; resolved: string; actor: string; reason: string | null; time: number };

const PAYLOAD_COLUMNS = [
  'deployment_pk',
  'request_id',
  'time',
  'model',
  'version',
  'protocol',
  'status',
  'latency_ms',
  'request',
  'response',
  'error',
  'shadow_version',
  'shadow_response',
  'shadow_agrees',
] as const satisfies readonly (keyof NewPayload)[];

export class ServingStore {
  constructor(
    readonly db: Kysely<ServingTables>,
    readonly adapter: StoreAdapter,
  ) {}

  isUniqueViolation(e: unknown): boolean {
    return this.adapter.isUniqueViolation(e);
  }

  private current(db: Db = this.db) {
    return db
      .selectFrom('serving_deployments as d')
      .innerJoin('serving_revisions as r', (j) => j.onRef('r.deployment_pk', '=', 'd.deployment_pk').onRef('r.revision', '=', 'd.revision'))
      .selectAll('d')
      .select(['r.kind', 'r.config', 'r.resolved', 'r.actor', 'r.reason', 'r.time']);
  }

  async deployment(name: string, db: Db = this.db): Promise<CurrentRow | undefined> {
    return (await this.current(db).where('d.name', '=', name).executeTakeFirst()) as CurrentRow | undefined;
  }

  async deploymentProject(name: string): Promise<number | undefined> {
    const r = await this.db.selectFrom('serving_deployments').select('project_id').where('name', '=', name).executeTakeFirst();
    return r ? Number(r.project_id) : undefined;
  }

  async projectHoldsDeployments(projectId: number): Promise<boolean> {
    return !!(await this.db.selectFrom('serving_deployments').select('deployment_pk').where('project_id', '=', projectId).limit(1).executeTakeFirst());
  }

  /** Deployments the caller can read (filtered in the query), by name. */
  async list(offset: number, limit: number, project?: number): Promise<CurrentRow[]> {
    let q = this.current();
    const readable = readableProjects();
    if (readable !== 'all') q = readable.length === 0 ? q.where(sql<boolean>`1 = 0`) : q.where('d.project_id', 'in', [...readable]);
    if (project !== undefined) q = q.where('d.project_id', '=', project);
    return (await q.orderBy('d.name').offset(offset).limit(limit).execute()) as CurrentRow[];
  }

  /** Every deployment with its revision in force (what a serving process routes by). */
  async all(): Promise<CurrentRow[]> {
    return (await this.current().orderBy('d.name').execute()) as CurrentRow[];
  }

  async insertDeployment(trx: Transaction<ServingTables>, row: Omit<DeploymentsTable, 'deployment_pk'>): Promise<number> {
    const r = await trx.insertInto('serving_deployments').values(row).returning('deployment_pk').executeTakeFirstOrThrow();
    return Number(r.deployment_pk);
  }

  async insertRevision(trx: Transaction<ServingTables>, row: RevisionsTable): Promise<void> {
    await trx.insertInto('serving_revisions').values(row).execute();
  }

  /** Moves the deployment to a new revision, if it is still at `expected` (false: a concurrent change came first). */
  async advance(trx: Transaction<ServingTables>, pk: number, expected: number, next: number, time: number, description?: string | null): Promise<boolean> {
    const r = await trx
      .updateTable('serving_deployments')
      .set({ revision: next, last_update_time: time, ...(description !== undefined ? { description } : {}) })
      .where('deployment_pk', '=', pk)
      .where('revision', '=', expected)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async revisions(pk: number, db: Db = this.db): Promise<RevisionRow[]> {
    return db.selectFrom('serving_revisions').selectAll().where('deployment_pk', '=', pk).orderBy('revision', 'desc').execute();
  }

  async revision(pk: number, revision: number, db: Db = this.db): Promise<RevisionRow | undefined> {
    return db.selectFrom('serving_revisions').selectAll().where('deployment_pk', '=', pk).where('revision', '=', revision).executeTakeFirst();
  }

  async maxRevision(trx: Transaction<ServingTables>, pk: number): Promise<number> {
    const r = await trx.selectFrom('serving_revisions').select((e) => e.fn.max('revision').as('m')).where('deployment_pk', '=', pk).executeTakeFirst();
    return Number(r?.m ?? 0);
  }

  async deleteDeployment(trx: Transaction<ServingTables>, pk: number): Promise<void> {
    await trx.deleteFrom('serving_payloads').where('deployment_pk', '=', pk).execute();
    await trx.deleteFrom('serving_revisions').where('deployment_pk', '=', pk).execute();
    await trx.deleteFrom('serving_deployments').where('deployment_pk', '=', pk).execute();
  }

  // ------------------------------------------------------------------ payload log

  /**
   * Writes a batch of payload records in one transaction, as hand-written multi-row inserts (the same text for every
   * full chunk, so its prepared statement is reused): the query builder costs more than the insert at this rate.
   */
  async insertPayloads(rows: readonly NewPayload[]): Promise<void> {
    if (rows.length === 0) return;
    const per = Math.max(1, Math.min(50, Math.floor(this.adapter.maxBindParameters / PAYLOAD_COLUMNS.length)));
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += per) {
        const chunk = rows.slice(i, i + per);
        const params: unknown[] = [];
        for (const r of chunk) for (const c of PAYLOAD_COLUMNS) params.push(r[c]);
        await trx.executeQuery(CompiledQuery.raw(this.payloadInsertSql(chunk.length), params));
      }
    });
  }

  private readonly insertSql = new Map<number, string>();
  private payloadInsertSql(n: number): string {
    let text = this.insertSql.get(n);
    if (text === undefined) {
      const k = PAYLOAD_COLUMNS.length;
      const rows = Array.from({ length: n }, (_, r) => `(${PAYLOAD_COLUMNS.map((_c, j) => this.adapter.placeholder(r * k + j + 1)).join(', ')})`);
      text = `INSERT INTO serving_payloads (${PAYLOAD_COLUMNS.join(', ')}) VALUES ${rows.join(', ')}`;
      if (this.insertSql.size < 8) this.insertSql.set(n, text);
    }
    return text;
  }

  async payloads(
    pk: number,
    q: { version?: number; requestId?: string; startTime?: number; endTime?: number; afterPk?: number; limit: number },
  ): Promise<PayloadRow[]> {
    let s = this.db.selectFrom('serving_payloads').selectAll().where('deployment_pk', '=', pk);
    if (q.version !== undefined) s = s.where('version', '=', q.version);
    if (q.requestId !== undefined) s = s.where('request_id', '=', q.requestId);
    if (q.startTime !== undefined) s = s.where('time', '>=', q.startTime);
    if (q.endTime !== undefined) s = s.where('time', '<', q.endTime);
    if (q.afterPk !== undefined) s = s.where('payload_pk', '<', q.afterPk);
    return s.orderBy('payload_pk', 'desc').limit(q.limit).execute();
  }

  /** Deletes records older than `before`, and beyond the newest `maxRows` of each deployment. Returns how many. */
  async prunePayloads(before: number, maxRows: number): Promise<number> {
    let deleted = Number((await this.db.deleteFrom('serving_payloads').where('time', '<', before).executeTakeFirst()).numDeletedRows);
    const counts = await this.db.selectFrom('serving_payloads').select(['deployment_pk', (e) => e.fn.countAll().as('n')]).groupBy('deployment_pk').execute();
    for (const c of counts) {
      const excess = Number(c.n) - maxRows;
      if (excess <= 0) continue;
      const edge = await this.db.selectFrom('serving_payloads').select('payload_pk').where('deployment_pk', '=', c.deployment_pk).orderBy('payload_pk', 'desc').offset(maxRows).limit(1).executeTakeFirst();
      if (!edge) continue;
      deleted += Number((await this.db.deleteFrom('serving_payloads').where('deployment_pk', '=', c.deployment_pk).where('payload_pk', '<=', edge.payload_pk).executeTakeFirst()).numDeletedRows);
    }
    return deleted;
  }
}
