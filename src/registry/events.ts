import type { Transaction } from 'kysely';
import type { RegistryTables } from './tables.js';
import type { RegistryStore, NewEvent } from './store.js';
import type { ModelEventKind } from './types.js';

/** A committed registry event, as listeners (webhooks) receive it. */
export interface RegistryNotice {
  /** The history entry's id: unique and increasing. */
  readonly id: number;
  readonly kind: ModelEventKind;
  /** The registered model's name (null when the model is gone). */
  readonly model: string | null;
  readonly version: string | null;
  readonly alias: string | null;
  readonly actor: string;
  readonly time: number;
  readonly reason: string | null;
  readonly details: Readonly<Record<string, unknown>> | null;
}

/**
 * The registry's history as it is written: events recorded inside a transaction are published to listeners only
 * after it commits (a rolled-back change notifies nobody); a listener that throws is reported, never propagated.
 */
export class RegistryEvents {
  private readonly listeners = new Set<(e: RegistryNotice) => void>();

  constructor(
    private readonly store: RegistryStore,
    private readonly onError: (e: unknown, what: string) => void,
  ) {}

  subscribe(listener: (e: RegistryNotice) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  /** A transaction whose recorded events are published after it commits. */
  async tx<T>(fn: (trx: Transaction<RegistryTables>, record: (e: NewEvent) => Promise<void>) => Promise<T>): Promise<T> {
    const pending: { id: number; e: NewEvent }[] = [];
    const result = await this.store.transaction((trx) => fn(trx, async (e) => void pending.push({ id: await this.store.addEvent(trx, e), e })));
    for (const p of pending) await this.publish(p.id, p.e);
    return result;
  }

  async recordNow(e: NewEvent): Promise<void> {
    await this.publish(await this.store.addEvent(this.store.db, e), e);
  }

  private async publish(id: number, e: NewEvent): Promise<void> {
    if (this.listeners.size === 0) return;
    const row = await this.store.db.selectFrom('registered_models').select('name').where('model_pk', '=', e.modelPk).executeTakeFirst();
    const notice: RegistryNotice = {
      id,
      kind: e.kind,
      model: row?.name ?? null,
      version: e.version === undefined || e.version === null ? null : String(e.version),
      alias: e.alias ?? null,
      actor: e.actor,
      time: e.time,
      reason: e.reason ?? null,
      details: e.details ?? null,
    };
    for (const l of this.listeners) {
      try {
        l(notice);
      } catch (err) {
        this.onError(err, `an event listener failed on ${e.kind}`);
      }
    }
  }
}
