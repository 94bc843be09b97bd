import type { Kysely } from 'kysely';
import type { AuditLog, AuditRecord } from '../platform/audit/log.js';
import type { EventConsumerSpec, KilnEvent } from '../platform/events/types.js';
import type { GovernanceService } from './service.js';
import type { GovernanceTables } from './tables.js';

/** The registry's events this consumer follows (read by their published shape: governance imports no registry code). */
const RENAMED = 'registry.model_renamed';
const CREATED = 'registry.model_created';

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Keeps grants on registered models (which name their model) attached to the model they were given on:
 * - a rename (`registry.model_renamed`) moves the grants from the old name to the new one;
 * - a model created under a name (`registry.model_created`, or the new name of a rename) drops the grants left on that
 *   name by an earlier model of that name, since deleted (the registry deletes a model without an event; its grants stay
 *   until the name is used again, and they name no model meanwhile, so they give nothing).
 * Each change is audited (`auth.grant_moved`, `auth.grant_deleted`) in the consumer's transaction, which moves its
 * position past the events: exactly once, on one replica. The process's listeners are told after the commit.
 */
export function grantFollower(governance: GovernanceService, audit: AuditLog): EventConsumerSpec {
  let touched: number[] = [];
  return {
    name: 'governance.grants',
    accepts: (type) => type === RENAMED || type === CREATED,
    // Only what happens from now on: older renames had no grants to carry.
    startAt: 'latest',
    async handle(events: readonly KilnEvent[], trx) {
      const db = trx as unknown as Kysely<GovernanceTables>;
      const records: AuditRecord[] = [];
      touched = [];
      for (const e of events) {
        const details = (e.data.details ?? {}) as Record<string, unknown>;
        const done =
          e.type === RENAMED
            ? text(details.from) !== undefined && text(details.to) !== undefined
              ? await governance.followRename(db, 'registered_model', text(details.from)!, text(details.to)!, e.time)
              : undefined
            : text(e.data.model) !== undefined
              ? await governance.dropStale(db, 'registered_model', text(e.data.model)!, e.time)
              : undefined;
        if (!done) continue;
        records.push(...done.records);
        touched.push(...done.users);
      }
      if (records.length > 0) await audit.append(trx, records);
    },
    afterCommit() {
      for (const u of new Set(touched)) governance.changed(u);
      touched = [];
    },
  };
}
