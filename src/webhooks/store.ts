import type { Kysely, Selectable, Transaction } from 'kysely';
import { inTransaction } from '../platform/db/transaction.js';
import type { WebhookTables, WebhookDeliveriesTable, WebhooksTable } from './tables.js';

export type WebhookRow = Selectable<WebhooksTable>;
export type DeliveryRow = Selectable<WebhookDeliveriesTable>;

/** A delivery attempt to queue. */
export interface NewDelivery {
  readonly webhookId: string;
  readonly eventId: string;
  readonly eventKind: string;
  readonly payload: string;
  readonly attempt: number;
  readonly dueTime: number;
  readonly now: number;
}

/** The outcome of one attempt, as recorded on its row. */
export interface AttemptOutcome {
  readonly status: 'SUCCEEDED' | 'RETRIED' | 'FAILED';
  readonly responseStatus: number | null;
  readonly responseBody: string | null;
  readonly error: string | null;
  readonly durationMs: number;
  /** When the next attempt is due (RETRIED only). */
  readonly retryTime: number | null;
}

/**
 * Persistence of webhooks and of their delivery log. One row of `webhook_deliveries` is one attempt to deliver one
 * event to one webhook: PENDING until sent, then SUCCEEDED, RETRIED (failed, and the next attempt is queued as a new
 * row) or FAILED (failed, no more attempts).
 */
export class WebhookStore {
  constructor(readonly db: Kysely<WebhookTables>) {}

  async insert(row: WebhookRow, db: Kysely<WebhookTables> = this.db): Promise<void> {
    await db.insertInto('webhooks').values(row).execute();
  }

  async get(id: string): Promise<WebhookRow | undefined> {
    return this.db.selectFrom('webhooks').selectAll().where('webhook_id', '=', id).executeTakeFirst();
  }

  /** Webhooks whose signing secret is stored in clear (from before secrets were encrypted at rest). */
  async withPlainSecrets(): Promise<{ webhook_id: string; secret: string }[]> {
    const rows = await this.db.selectFrom('webhooks').select(['webhook_id', 'secret']).where('secret', 'is not', null).where('secret', 'not like', 'kiln:v1:%').execute();
    return rows.filter((r): r is { webhook_id: string; secret: string } => r.secret !== null && r.secret !== '');
  }

  /** Replaces a secret if it is still the one read (a concurrent change wins). */
  async replaceSecret(id: string, was: string, now: string): Promise<boolean> {
    const r = await this.db.updateTable('webhooks').set({ secret: now }).where('webhook_id', '=', id).where('secret', '=', was).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async list(offset: number, limit: number): Promise<WebhookRow[]> {
    return this.db.selectFrom('webhooks').selectAll().orderBy('creation_time', 'desc').orderBy('webhook_id').offset(offset).limit(limit).execute();
  }

  async active(db: Kysely<WebhookTables> | Transaction<WebhookTables> = this.db): Promise<WebhookRow[]> {
    return db.selectFrom('webhooks').selectAll().where('status', '=', 'ACTIVE').execute();
  }

  async update(id: string, patch: Partial<Omit<WebhookRow, 'webhook_id' | 'creation_time'>>, db: Kysely<WebhookTables> = this.db): Promise<boolean> {
    const r = await db.updateTable('webhooks').set(patch).where('webhook_id', '=', id).executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Deletes a webhook and its delivery log, in the caller's transaction when `db` is one, else in one of its own. */
  async delete(id: string, db: Kysely<WebhookTables> = this.db): Promise<boolean> {
    return inTransaction(db, async (trx) => {
      await trx.deleteFrom('webhook_deliveries').where('webhook_id', '=', id).execute();
      const r = await trx.deleteFrom('webhooks').where('webhook_id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    });
  }

  async queue(d: NewDelivery, db: Kysely<WebhookTables> | Transaction<WebhookTables> = this.db): Promise<number> {
    const row = await db
      .insertInto('webhook_deliveries')
      .values({
        webhook_id: d.webhookId,
        event_id: d.eventId,
        event_kind: d.eventKind,
        payload: d.payload,
        status: 'PENDING',
        attempts: d.attempt,
        next_attempt_time: d.dueTime,
        last_attempt_time: null,
        response_status: null,
        response_body: null,
        error: null,
        duration_ms: null,
        creation_time: d.now,
      })
      .returning('delivery_pk')
      .executeTakeFirstOrThrow();
    return Number(row.delivery_pk);
  }

  async delivery(webhookId: string, pk: number): Promise<DeliveryRow | undefined> {
    return this.db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId).where('delivery_pk', '=', pk).executeTakeFirst();
  }

  /** A webhook's delivery log, newest first. */
  async deliveries(webhookId: string, offset: number, limit: number): Promise<DeliveryRow[]> {
    return this.db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId).orderBy('delivery_pk', 'desc').offset(offset).limit(limit).execute();
  }

  /** Attempts that are due now: PENDING with next_attempt_time ≤ now (a claimed attempt's lease counts as its due time). */
  async due(now: number, limit: number): Promise<DeliveryRow[]> {
    return this.db
      .selectFrom('webhook_deliveries')
      .selectAll()
      .where('status', '=', 'PENDING')
      .where('next_attempt_time', '<=', now)
      .orderBy('next_attempt_time')
      .orderBy('delivery_pk')
      .limit(limit)
      .execute();
  }

  /** When the earliest PENDING attempt is due, if any. */
  async nextDueTime(): Promise<number | undefined> {
    const r = await this.db.selectFrom('webhook_deliveries').select((e) => e.fn.min('next_attempt_time').as('t')).where('status', '=', 'PENDING').executeTakeFirst();
    return r?.t === null || r?.t === undefined ? undefined : Number(r.t);
  }

  /**
   * Claims a due attempt for this process: moves its due time to the end of a lease. The guard on the due time the
   * caller saw means that of several replicas polling the same row, exactly one UPDATE matches. When the claimer
   * dies mid-attempt, the row becomes due again once the lease ends.
   */
  async claim(pk: number, seenDueTime: number, now: number, leaseUntil: number): Promise<boolean> {
    const r = await this.db
      .updateTable('webhook_deliveries')
      .set({ next_attempt_time: leaseUntil, last_attempt_time: now })
      .where('delivery_pk', '=', pk)
      .where('status', '=', 'PENDING')
      .where('next_attempt_time', '=', seenDueTime)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * Records an attempt's outcome, and queues the next attempt when it is RETRIED, in one transaction. Guarded by
   * the claim (the lease end this process set), so a claimer whose lease ran out does not overwrite its successor.
   */
  async finish(row: DeliveryRow, leaseUntil: number, outcome: AttemptOutcome, now: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const r = await trx
        .updateTable('webhook_deliveries')
        .set({
          status: outcome.status,
          next_attempt_time: outcome.retryTime,
          response_status: outcome.responseStatus,
          response_body: outcome.responseBody,
          error: outcome.error,
          duration_ms: Math.round(outcome.durationMs),
        })
        .where('delivery_pk', '=', row.delivery_pk)
        .where('status', '=', 'PENDING')
        .where('next_attempt_time', '=', leaseUntil)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return false;
      if (outcome.status === 'RETRIED' && outcome.retryTime !== null) {
        await this.queue(
          { webhookId: row.webhook_id, eventId: row.event_id, eventKind: row.event_kind, payload: row.payload, attempt: Number(row.attempts) + 1, dueTime: outcome.retryTime, now },
          trx,
        );
      }
      return true;
    });
  }
}
