import type { Transaction } from 'kysely';

/** An event to append: what happened, written in the same transaction as the change it describes. */
export interface NewEvent {
  /** `<capability>.<what happened>`, e.g. `registry.alias_set`, `data.version_created`. */
  readonly type: string;
  /** Who caused it. */
  readonly actor: string;
  readonly time: number;
  /** What it is about (a model name, a dataset name), so consumers can filter without parsing `data`. */
  readonly subject?: string | null;
  /**
   * What kind of thing the subject is (`registered-model`, `dataset`): the resource type of the event's audit entry
   * (default: the capability, the type's part before the dot). Not stored with the event.
   */
  readonly subjectKind?: string;
  /** The event's payload: a JSON object. */
  readonly data: Readonly<Record<string, unknown>>;
}

/** An event as consumers read it. */
export interface KilnEvent extends NewEvent {
  /** Unique and increasing in commit order: consumers keep their position as the last id they handled. */
  readonly id: number;
  readonly subject: string | null;
}

/** A durable consumer of the event log. */
export interface EventConsumerSpec {
  /** The consumer's name: its position and lease are stored under it, shared by every replica. */
  readonly name: string;
  /** Which event types it wants; the others are passed over (its position still moves past them). */
  readonly accepts?: (type: string) => boolean;
  /**
   * Where a consumer seen for the first time starts: at the beginning of the log, or after the events already in it
   * (a consumer added to a running installation should not act on history).
   */
  readonly startAt?: 'beginning' | 'latest';
  /** Events per transaction (default 100). */
  readonly batchSize?: number;
  /**
   * Handles a batch inside the transaction that moves the consumer's position past it. What it writes through `trx`
   * happens exactly once; what it does outside the database happens at least once (a crash before the commit repeats
   * the batch), so anything sent out carries the event id as an idempotency key. A throw rolls the batch back; it is
   * retried after a pause.
   */
  handle(events: readonly KilnEvent[], trx: Transaction<object>): Promise<void>;
  /** Called after the batch committed (e.g. to wake a sender). */
  afterCommit?(events: readonly KilnEvent[]): void;
}

export interface EventLogOptions {
  /** How often a consumer looks for events committed by other processes (default 1000 ms). */
  readonly pollIntervalMs: number;
  /** How long a consumer's lease lasts without renewal (default 15 s): after that another replica takes over. */
  readonly leaseMs: number;
  /**
   * How long events are kept (default 30 days; 0 keeps them forever). An older event is deleted once every consumer
   * active within that time has handled it; a consumer idle for longer does not hold the log back.
   */
  readonly retentionMs: number;
  /** How often each process deletes events past the retention (default hourly). */
  readonly pruneIntervalMs: number;
}

export const DEFAULT_EVENT_LOG_OPTIONS: EventLogOptions = { pollIntervalMs: 1000, leaseMs: 15_000, retentionMs: 30 * 24 * 3600_000, pruneIntervalMs: 3600_000 };
