import type { Kysely, Selectable, Transaction } from 'kysely';
import type { PromotionPoliciesTable, PromotionRequestsTable, RegistryTables } from './tables.js';

export type PolicyRow = Selectable<PromotionPoliciesTable>;
export type RequestRow = Selectable<PromotionRequestsTable>;
type Db = Kysely<RegistryTables> | Transaction<RegistryTables>;

/** The promotion tables: a policy per (model, alias) and every promotion request with its decision. */
export class PromotionStore {
  constructor(readonly db: Kysely<RegistryTables>) {}

  async policy(modelPk: number, alias: string, db: Db = this.db): Promise<PolicyRow | undefined> {
    return db.selectFrom('promotion_policies').selectAll().where('model_pk', '=', modelPk).where('alias', '=', alias).executeTakeFirst();
  }

  async policies(modelPk: number): Promise<PolicyRow[]> {
    return this.db.selectFrom('promotion_policies').selectAll().where('model_pk', '=', modelPk).orderBy('alias').execute();
  }

  async upsertPolicy(trx: Transaction<RegistryTables>, row: PolicyRow): Promise<void> {
    await trx
      .insertInto('promotion_policies')
      .values(row)
      .onConflict((oc) => oc.columns(['model_pk', 'alias']).doUpdateSet({ policy: row.policy, updated_by: row.updated_by, update_time: row.update_time }))
      .execute();
  }

  async deletePolicy(trx: Transaction<RegistryTables>, modelPk: number, alias: string): Promise<boolean> {
    const r = await trx.deleteFrom('promotion_policies').where('model_pk', '=', modelPk).where('alias', '=', alias).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  async insertRequest(trx: Transaction<RegistryTables>, row: Omit<RequestRow, 'request_pk'>): Promise<number> {
    const r = await trx.insertInto('promotion_requests').values(row).returning('request_pk').executeTakeFirstOrThrow();
    return Number(r.request_pk);
  }

  async request(modelPk: number, requestPk: number, db: Db = this.db): Promise<RequestRow | undefined> {
    return db.selectFrom('promotion_requests').selectAll().where('model_pk', '=', modelPk).where('request_pk', '=', requestPk).executeTakeFirst();
  }

  async requests(modelPk: number, status: string | undefined, limit: number): Promise<RequestRow[]> {
    let q = this.db.selectFrom('promotion_requests').selectAll().where('model_pk', '=', modelPk);
    if (status) q = q.where('status', '=', status);
    return q.orderBy('request_pk', 'desc').limit(limit).execute();
  }

  /**
   * Decides a request that is still PENDING_APPROVAL: the status guard makes concurrent decisions exclusive (of an
   * approval and a rejection, or two approvals, exactly one UPDATE matches). False when it was already decided.
   */
  async decide(trx: Transaction<RegistryTables>, requestPk: number, set: Pick<RequestRow, 'status' | 'decided_by' | 'decision_time' | 'reason' | 'evaluation'>): Promise<boolean> {
    const r = await trx.updateTable('promotion_requests').set(set).where('request_pk', '=', requestPk).where('status', '=', 'PENDING_APPROVAL').executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Rejects the promotion requests of a version still awaiting approval (it is being deleted); returns them. */
  async rejectPendingRequests(trx: Transaction<RegistryTables>, modelPk: number, version: number, decidedBy: string, now: number, reason: string): Promise<{ id: number; alias: string }[]> {
    const rows = await trx
      .selectFrom('promotion_requests')
      .select(['request_pk', 'alias'])
      .where('model_pk', '=', modelPk)
      .where('version', '=', version)
      .where('status', '=', 'PENDING_APPROVAL')
      .orderBy('request_pk')
      .execute();
    if (rows.length === 0) return [];
    await trx
      .updateTable('promotion_requests')
      .set({ status: 'REJECTED', decided_by: decidedBy, decision_time: now, reason })
      .where('request_pk', 'in', rows.map((r) => Number(r.request_pk)))
      .where('status', '=', 'PENDING_APPROVAL')
      .execute();
    return rows.map((r) => ({ id: Number(r.request_pk), alias: r.alias }));
  }
}
