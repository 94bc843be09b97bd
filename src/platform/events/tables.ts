/**
 * The event log's tables. `events` is append-only; `event_sequence` holds one row whose update, inside every
 * transaction that appends, numbers the events and orders the appending transactions (see log.ts);
 * `event_consumers` holds each consumer's durable position and lease.
 */
export interface EventsTable {
  event_pk: number;
  type: string;
  subject: string | null;
  actor: string;
  time: number;
  /** JSON object. */
  data: string;
}

export interface EventSequenceTable {
  name: string;
  value: number;
}

export interface EventConsumersTable {
  name: string;
  /** The id of the last event this consumer has handled. */
  position: number;
  /** The process that holds the lease, or null. */
  owner: string | null;
  lease_until: number;
  updated_time: number;
}

// A type alias, not an interface: Kysely's withTables<T> needs T's implicit index signature.
export type EventTables = {
  events: EventsTable;
  event_sequence: EventSequenceTable;
  event_consumers: EventConsumersTable;
};
