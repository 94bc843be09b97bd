import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { MetadataStore } from '../db/types.js';
import { PollLoop } from '../poll-loop.js';
import { AuditLog, type AuditRecord, type RecordAudit } from '../audit/log.js';
import type { EventTables } from './tables.js';
import { DEFAULT_EVENT_LOG_OPTIONS, type EventConsumerSpec, type EventLogOptions, type KilnEvent, type NewEvent } from './types.js';

const SEQUENCE = 'events';

/**
 * The durable event log every capability publishes to and consumes from (the transactional outbox).
 *
 * Writing: an event is appended inside the transaction of the change it describes, so it exists exactly when the
 * change does. Appending bumps the one row of `event_sequence` and takes the event ids from it: that row stays locked
 * until the transaction ends, so appending transactions commit one after another in id order, and a consumer that
 * has seen event n can never later see a smaller id appear (the gap an auto-increment key leaves on PostgreSQL,
 * where a later id can commit first). The lock is taken last, just before the commit, so it is held for a moment.
 * Every event appended gets its entry in the audit log (`audit`) in the same transaction, right after it: a change
 * that publishes an event is audited by construction.
 *
 * Reading: each consumer keeps its position (the last id it handled) in `event_consumers`, and moves it in the same
 * transaction as the batch's effects. One process at a time holds a consumer's lease, so with several replicas on one
 * database each event is handled by one of them; a replica that dies loses its lease when it runs out and another
 * takes over from the stored position. Processes look for new events every `pollIntervalMs`, and at once when their
 * own process appended some.
 */
export class EventLog {
  readonly options: EventLogOptions;
  /** The audit log the appended events are recorded in (see `transaction`). */
  readonly audit: AuditLog;
  private readonly db: Kysely<EventTables>;
  private readonly consumers = new Set<EventConsumer>();
  private pruner: PollLoop | undefined;
  /** Identifies this process in consumer leases. */
  private readonly owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

  constructor(
    store: MetadataStore,
    options: Partial<EventLogOptions> = {},
    private readonly now: () => number = Date.now,
    private readonly onError: (e: unknown, what: string) => void = () => {},
  ) {
    this.db = store.db.withTables<EventTables>();
    this.options = { ...DEFAULT_EVENT_LOG_OPTIONS, ...options };
    this.audit = new AuditLog(store, now);
  }

  /**
   * Runs `fn` in a transaction of `db`; the events it emits are appended at the end of that transaction, each with its
   * audit entry, and so are the audit entries it records without an event (`audit`), in the order of the calls. Local
   * consumers are woken once it has committed. A rolled-back transaction leaves no event and no entry.
   */
  async transaction<DB, T>(db: Kysely<DB>, fn: (trx: Transaction<DB>, emit: (e: NewEvent) => void, audit: RecordAudit) => Promise<T>): Promise<T> {
    let emitted = false;
    const result = await db.transaction().execute(async (trx) => {
      const pending: NewEvent[] = [];
      // In call order: an emitted event (its index in `pending`) or an entry recorded without one.
      const audited: (number | AuditRecord)[] = [];
      const r = await fn(
        trx,
        (e) => {
          audited.push(pending.length);
          pending.push(e);
        },
        (a) => void audited.push(a),
      );
      await this.appendWithAudit(trx, pending, audited);
      emitted = pending.length > 0;
      return r;
    });
    if (emitted) this.wake();
    return result;
  }

  /**
   * Appends events inside the caller's transaction, each with its audit entry, then the further `audit` entries
   * (prefer `transaction`, which also wakes the consumers). Returns the events' ids.
   */
  async append<DB>(trx: Transaction<DB>, events: readonly NewEvent[], audit: readonly AuditRecord[] = []): Promise<number[]> {
    return this.appendWithAudit(trx, events, [...events.map((_, i) => i), ...audit]);
  }

  private async appendWithAudit<DB>(trx: Transaction<DB>, events: readonly NewEvent[], audited: readonly (number | AuditRecord)[]): Promise<number[]> {
    const ids = await this.appendEvents(trx, events);
    if (audited.length > 0) await this.audit.append(trx, audited.map((a) => (typeof a === 'number' ? eventAuditRecord(events[a]!, ids[a]!) : a)));
    return ids;
  }

  private async appendEvents<DB>(trx: Transaction<DB>, events: readonly NewEvent[]): Promise<number[]> {
    if (events.length === 0) return [];
    // The caller's transaction, seen through the event tables only (its own tables' type is the caller's business).
    const t = trx as unknown as Transaction<EventTables>;
    const seq = await t
      .updateTable('event_sequence')
      .set((eb) => ({ value: eb('value', '+', events.length) }))
      .where('name', '=', SEQUENCE)
      .returning('value')
      .executeTakeFirstOrThrow();
    const first = Number(seq.value) - events.length + 1;
    const rows = events.map((e, i) => ({
      event_pk: first + i,
      type: e.type,
      subject: e.subject ?? null,
      actor: e.actor,
      time: e.time,
      data: JSON.stringify(e.data),
    }));
    await t.insertInto('events').values(rows).execute();
    return rows.map((r) => r.event_pk);
  }

  /** Events after `afterId`, oldest first. */
  async read(afterId: number, limit: number): Promise<KilnEvent[]> {
    const rows = await this.db.selectFrom('events').selectAll().where('event_pk', '>', afterId).orderBy('event_pk').limit(limit).execute();
    return rows.map(eventOf);
  }

  /** The id of the last event committed so far (0 when none). */
  async lastId(): Promise<number> {
    const r = await this.db.selectFrom('event_sequence').select('value').where('name', '=', SEQUENCE).executeTakeFirst();
    return r ? Number(r.value) : 0;
  }

  /** Starts a durable consumer in this process. Close it (or the log) to stop it. */
  async consume(spec: EventConsumerSpec): Promise<EventConsumer> {
    const consumer = new EventConsumer(spec, this.db, this.options, this.owner, this.now, this.onError, () => this.consumers.delete(consumer));
    await consumer.register(spec.startAt === 'latest' ? await this.lastId() : 0);
    this.consumers.add(consumer);
    consumer.start();
    return consumer;
  }

  /** Makes this process's consumers look for new events now. */
  wake(): void {
    for (const c of this.consumers) c.wake();
  }

  /**
   * Resolves once consumer `name` (in whichever process holds it) has handled every event committed before the
   * call; rejects after `timeoutMs`. For tests and for orderly handovers.
   */
  async whenConsumed(name: string, timeoutMs = 30_000): Promise<void> {
    const target = await this.lastId();
    const deadline = this.now() + timeoutMs;
    for (;;) {
      const row = await this.db.selectFrom('event_consumers').select('position').where('name', '=', name).executeTakeFirst();
      if (row && Number(row.position) >= target) return;
      if (this.now() > deadline) throw new Error(`event consumer '${name}' is at ${row ? Number(row.position) : 'no position'}, not yet at ${target}, after ${timeoutMs} ms`);
      this.wake();
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * Deletes the events older than `before` that every consumer active since then has handled (a consumer whose row
   * was not updated since `before` no longer holds them back). Returns how many were deleted. Safe on every replica.
   */
  async prune(before: number): Promise<number> {
    const r = await this.db
      .deleteFrom('events')
      .where('time', '<', before)
      .where(({ eb, not, exists, selectFrom }) =>
        not(exists(selectFrom('event_consumers').select('name').where('updated_time', '>=', before).whereRef('event_consumers.position', '<', eb.ref('events.event_pk')))),
      )
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** Prunes past the retention every `pruneIntervalMs` in the background (nothing when the retention is 0). */
  startPruning(): void {
    if (this.options.retentionMs <= 0 || this.pruner) return;
    this.pruner = new PollLoop(
      async () => {
        await this.prune(this.now() - this.options.retentionMs);
        return false;
      },
      () => this.options.pruneIntervalMs,
      (e) => this.onError(e, 'pruning the event log'),
    );
    this.pruner.start();
  }

  /** Stops this process's consumers (each finishes its batch and gives up its lease) and the pruning. Safe to call twice. */
  async close(): Promise<void> {
    await this.pruner?.stop();
    await Promise.all([...this.consumers].map((c) => c.close()));
  }
}

/** An event's audit entry: its type as the action, its subject as the resource, its id and data (trimmed) as the details. */
function eventAuditRecord(e: NewEvent, id: number): AuditRecord {
  const dot = e.type.indexOf('.');
  return {
    action: e.type,
    resourceType: e.subjectKind ?? (dot > 0 ? e.type.slice(0, dot) : null),
    resourceId: e.subject ?? null,
    details: { event_id: id, data: e.data },
  };
}

function eventOf(r: { event_pk: number; type: string; subject: string | null; actor: string; time: number; data: string }): KilnEvent {
  return { id: Number(r.event_pk), type: r.type, subject: r.subject, actor: r.actor, time: Number(r.time), data: JSON.parse(r.data) as Record<string, unknown> };
}

class LeaseLost extends Error {
  constructor() {
    super('the consumer lease moved to another process');
  }
}

/** One durable consumer's loop in this process: claim or renew the lease, read after the position, handle, move the position. */
export class EventConsumer {
  private readonly loop: PollLoop;
  private leaseUntil = 0;

  constructor(
    private readonly spec: EventConsumerSpec,
    private readonly db: Kysely<EventTables>,
    private readonly opts: EventLogOptions,
    private readonly owner: string,
    private readonly now: () => number,
    private readonly onError: (e: unknown, what: string) => void,
    private readonly onClosed: () => void,
  ) {
    this.loop = new PollLoop(() => this.tick(), () => this.opts.pollIntervalMs, (e) => this.onError(e, `event consumer ${this.spec.name}`));
  }

  get name(): string {
    return this.spec.name;
  }

  /** Creates the consumer's row at `position` unless it exists (the first replica to start decides). */
  async register(position: number): Promise<void> {
    await this.db
      .insertInto('event_consumers')
      .values({ name: this.spec.name, position, owner: null, lease_until: 0, updated_time: this.now() })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
  }

  start(): void {
    this.loop.start();
  }

  wake(): void {
    this.loop.wake();
  }

  /** Stops after the batch in progress and gives the lease up, so another replica takes over at once. */
  async close(): Promise<void> {
    await this.loop.stop();
    await this.release();
    this.onClosed();
  }

  /** One round: false when another process holds the lease or nothing was waiting. */
  private async tick(): Promise<boolean> {
    try {
      return await this.handleBatch();
    } catch (e) {
      this.leaseUntil = 0;
      if (e instanceof LeaseLost) return false;
      throw e;
    }
  }

  /** Handles one batch; false when this process does not hold the lease or nothing was waiting. */
  private async handleBatch(): Promise<boolean> {
    const now = this.now();
    if (this.leaseUntil - now < this.opts.leaseMs / 2 && !(await this.claim(now))) return false;
    const row = await this.db.selectFrom('event_consumers').select('position').where('name', '=', this.spec.name).executeTakeFirstOrThrow();
    const position = Number(row.position);
    const rows = await this.db
      .selectFrom('events')
      .selectAll()
      .where('event_pk', '>', position)
      .orderBy('event_pk')
      .limit(this.spec.batchSize ?? 100)
      .execute();
    if (rows.length === 0) return false;
    const batch = rows.map(eventOf);
    const wanted = this.spec.accepts ? batch.filter((e) => this.spec.accepts!(e.type)) : batch;
    const last = batch[batch.length - 1]!.id;
    const leaseUntil = this.now() + this.opts.leaseMs;
    await this.db.transaction().execute(async (trx) => {
      if (wanted.length > 0) await this.spec.handle(wanted, trx as unknown as Transaction<object>);
      // Guarded by owner and position: a process whose lease ran out, and was overtaken, moves nothing.
      const r = await trx
        .updateTable('event_consumers')
        .set({ position: last, lease_until: leaseUntil, updated_time: this.now() })
        .where('name', '=', this.spec.name)
        .where('owner', '=', this.owner)
        .where('position', '=', position)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) throw new LeaseLost();
    });
    this.leaseUntil = leaseUntil;
    if (wanted.length > 0) this.spec.afterCommit?.(wanted);
    return true;
  }

  /** Takes the lease when it is free, expired or already ours; renews it when ours. */
  private async claim(now: number): Promise<boolean> {
    const until = now + this.opts.leaseMs;
    const r = await this.db
      .updateTable('event_consumers')
      .set({ owner: this.owner, lease_until: until, updated_time: now })
      .where('name', '=', this.spec.name)
      .where((eb) => eb.or([eb('owner', '=', this.owner), eb('owner', 'is', null), eb('lease_until', '<', now)]))
      .executeTakeFirst();
    const ok = Number(r.numUpdatedRows) === 1;
    this.leaseUntil = ok ? until : 0;
    return ok;
  }

  /** Gives the lease up on shutdown, so another replica takes over at once rather than when it runs out. */
  private async release(): Promise<void> {
    if (this.leaseUntil === 0) return;
    try {
      await this.db.updateTable('event_consumers').set({ owner: null, lease_until: 0 }).where('name', '=', this.spec.name).where('owner', '=', this.owner).execute();
    } catch (e) {
      this.onError(e, `releasing event consumer ${this.spec.name}`);
    }
    this.leaseUntil = 0;
  }
}
