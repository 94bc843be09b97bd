import type { MetadataStore } from '../../src/platform/db/index.js';

/**
 * A table the event-log tests' consumers write their effects to, through the consumer's transaction: one row per
 * event a replica handled. No unique key on purpose: a duplicate effect must show up as a second row, not as an error
 * that rolls the batch back and hides it.
 */
export type EffectTables = {
  event_effects: { consumer: string; event_id: number; replica: string };
};

export async function createEffectsTable(store: MetadataStore): Promise<void> {
  await store.db.schema
    .createTable('event_effects')
    .addColumn('consumer', 'text', (c) => c.notNull())
    .addColumn('event_id', 'bigint', (c) => c.notNull())
    .addColumn('replica', 'text', (c) => c.notNull())
    .execute();
}

/** Every effect of `consumer`, in no particular order (callers sort or count). */
export async function effectsOf(store: MetadataStore, consumer: string): Promise<{ eventId: number; replica: string }[]> {
  const rows = await store.db.withTables<EffectTables>().selectFrom('event_effects').select(['event_id', 'replica']).where('consumer', '=', consumer).execute();
  return rows.map((r) => ({ eventId: Number(r.event_id), replica: r.replica }));
}
