import type { RecordAudit } from '../platform/audit/log.js';
import type { Transaction } from 'kysely';
import type { EventLog } from '../platform/events/log.js';
import type { RegistryStore, NewEvent } from './store.js';
import type { RegistryTables } from './tables.js';
import { REGISTRY_EVENT_PREFIX, type RegistryNotice } from './types.js';

/** Records history entries inside a transaction, each with its event in the event log (written in the same transaction). */
export type RecordEvent = (e: NewEvent) => Promise<number>;

/**
 * The registry's history as it is written: every change and its history entries commit together, and each entry is
 * also appended to the platform's event log in that transaction, so consumers (webhooks, later deployments and
 * triggers) see exactly the committed history, even across a crash right after the commit.
 */
export class RegistryEvents {
  constructor(
    private readonly store: RegistryStore,
    private readonly log: EventLog,
  ) {}

  /** A transaction for a change that has no history entry: what it records goes to the audit log with it. */
  audited<T>(fn: (trx: Transaction<RegistryTables>, audit: RecordAudit) => Promise<T>): Promise<T> {
    return this.log.transaction(this.store.db, (trx, _emit, audit) => fn(trx, audit));
  }

  /** A transaction whose recorded history entries go to the event log with it. */
  tx<T>(fn: (trx: Transaction<RegistryTables>, record: RecordEvent) => Promise<T>): Promise<T> {
    return this.log.transaction(this.store.db, async (trx, emit) =>
      fn(trx, async (e) => {
        const id = await this.store.addEvent(trx, e);
        // The name as this transaction sees it (a rename in the same transaction included).
        const model = (await this.store.modelRowByPk(e.modelPk, trx))?.name ?? null;
        const notice: RegistryNotice = {
          id,
          kind: e.kind,
          model,
          version: e.version === undefined || e.version === null ? null : String(e.version),
          alias: e.alias ?? null,
          actor: e.actor,
          time: e.time,
          reason: e.reason ?? null,
          details: e.details ?? null,
        };
        emit({ type: REGISTRY_EVENT_PREFIX + e.kind, actor: e.actor, time: e.time, subject: model, subjectKind: 'registered-model', data: { ...notice } });
        return id;
      }),
    );
  }
}
