/**
 * The audit log's tables. `audit_log` is append-only: one row per entry, numbered by `seq` without gaps, each carrying
 * the hash of the one before (see chain.ts). `audit_head` holds one row, the last entry's seq and hash: updating it
 * first, inside every appending transaction, numbers the new entries and orders the appending transactions (see log.ts).
 */
export interface AuditLogTable {
  seq: number;
  time: number;
  actor: string;
  actor_kind: string;
  auth_method: string;
  source: string | null;
  request_id: string | null;
  action: string;
  resource_type: string | null;
  resource_id: string | null;
  project_id: number | null;
  outcome: string;
  /** A JSON object. */
  details: string;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadTable {
  seq: number;
  hash: string;
}

// A type alias, not an interface: Kysely's withTables<T> needs T's implicit index signature.
export type AuditTables = {
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
};
