import { createHash } from 'node:crypto';

/**
 * The audit log's hash chain. Every entry carries `prev_hash`, the hash of the entry before it (GENESIS_HASH for the
 * first), and `hash`, SHA-256 over its canonical content (every field but `hash`, `prev_hash` included). Changing,
 * deleting, inserting or reordering entries breaks the chain at the first entry touched, unless the whole tail is
 * rewritten: what catches that is a head (seq, hash) published earlier (logs, /metrics) that no longer matches.
 */
export interface AuditEntry {
  readonly seq: number;
  readonly time: number;
  readonly actor: string;
  /** user, service, anonymous, system. */
  readonly actor_kind: string;
  /** none, password, token, session, oidc, jwt, system. */
  readonly auth_method: string;
  /** The client's address, or null for work the server did on its own. */
  readonly source: string | null;
  readonly request_id: string | null;
  /** What was done, `<capability>.<verb>` (e.g. `registry.set_alias`, `auth.login`). */
  readonly action: string;
  readonly resource_type: string | null;
  readonly resource_id: string | null;
  readonly project_id: number | null;
  /** ok, denied, failed. */
  readonly outcome: string;
  /** A JSON object, as stored. */
  readonly details: string;
  readonly prev_hash: string;
}

export interface HashedAuditEntry extends AuditEntry {
  readonly hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/** The bytes the hash covers: the fields in one fixed order, as JSON (stable for the stored types). */
export function canonicalEntry(e: AuditEntry): string {
  return JSON.stringify([
    e.seq,
    e.time,
    e.actor,
    e.actor_kind,
    e.auth_method,
    e.source,
    e.request_id,
    e.action,
    e.resource_type,
    e.resource_id,
    e.project_id,
    e.outcome,
    e.details,
    e.prev_hash,
  ]);
}

export function entryHash(e: AuditEntry): string {
  return createHash('sha256').update(canonicalEntry(e)).digest('hex');
}

/** Links new entries (in order, numbered from `head.seq + 1`) after the head; returns them hashed and the new head. */
export function linkEntries(head: ChainHead, entries: readonly Omit<AuditEntry, 'seq' | 'prev_hash'>[]): { entries: HashedAuditEntry[]; head: ChainHead } {
  let seq = head.seq;
  let prev = head.hash;
  const out: HashedAuditEntry[] = [];
  for (const e of entries) {
    seq += 1;
    const linked: AuditEntry = { ...e, seq, prev_hash: prev };
    const hash = entryHash(linked);
    out.push({ ...linked, hash });
    prev = hash;
  }
  return { entries: out, head: { seq, hash: prev } };
}

export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export const EMPTY_HEAD: ChainHead = { seq: 0, hash: GENESIS_HASH };

export type ChainProblem =
  /** The entry's content no longer gives its hash. */
  | 'modified'
  /** Entries with these numbers are gone. */
  | 'missing'
  /** The entry does not follow the one before it (`prev_hash` differs): rewritten, inserted or moved. */
  | 'broken-link'
  /** The chain ends before, or differs at, a head published earlier. */
  | 'head-mismatch'
  /** The stored head (audit_head) is not the last entry. */
  | 'head-not-last';

export interface ChainReport {
  readonly ok: boolean;
  /** Entries read. */
  readonly entries: number;
  /** The last entry's seq and hash. */
  readonly head: ChainHead;
  /** The first entry found bad, and why. */
  readonly firstBad?: { readonly seq: number; readonly problem: ChainProblem; readonly message: string };
}

/**
 * Walks entries in seq order and reports the first one that is not what the chain says it should be. `expect`
 * heads (published earlier) must each lie on the chain; `storedHead` is the head the log keeps beside it.
 */
export class ChainVerifier {
  private prev: ChainHead = EMPTY_HEAD;
  private count = 0;
  private bad: ChainReport['firstBad'];
  private readonly expected: Map<number, string>;

  constructor(expect: readonly ChainHead[] = []) {
    this.expected = new Map(expect.map((h) => [h.seq, h.hash]));
  }

  /** Feeds the next entries (ordered by seq). Returns false once a bad entry was found (reading further is useless). */
  push(entries: readonly HashedAuditEntry[]): boolean {
    for (const e of entries) {
      if (this.bad) return false;
      this.count++;
      const seq = Number(e.seq);
      if (seq !== this.prev.seq + 1) {
        const first = this.prev.seq + 1;
        this.fail(
          first,
          seq > first ? 'missing' : 'broken-link',
          seq > first ? `entries ${first}${seq - 1 > first ? `–${seq - 1}` : ''} are missing (after ${this.prev.seq} comes ${seq})` : `entry ${seq} comes again after ${this.prev.seq}`,
        );
        return false;
      }
      if (entryHash(e) !== e.hash) {
        this.fail(seq, 'modified', `entry ${seq} was modified: its content does not give its stored hash`);
        return false;
      }
      if (e.prev_hash !== this.prev.hash) {
        // This entry is intact and the one before it too, yet they don't link: the one before was rewritten
        // (hash recomputed), or this one was inserted or moved here.
        const at = seq === 1 ? 1 : seq - 1;
        this.fail(at, 'broken-link', seq === 1 ? 'entry 1 does not start the chain' : `entry ${seq - 1} was rewritten, or entry ${seq} inserted or moved: entry ${seq} does not follow entry ${seq - 1}`);
        return false;
      }
      const published = this.expected.get(seq);
      if (published !== undefined && published !== e.hash) {
        this.fail(seq, 'head-mismatch', `entry ${seq} differs from the head published for it earlier: the chain was rewritten up to there`);
        return false;
      }
      this.prev = { seq, hash: e.hash };
    }
    return true;
  }

  /** The report once every entry was pushed; `storedHead` is the log's own head row, when there is one. */
  finish(storedHead?: ChainHead): ChainReport {
    if (!this.bad) {
      const beyond = [...this.expected.keys()].filter((s) => s > this.prev.seq).sort((a, b) => a - b)[0];
      if (beyond !== undefined) {
        this.fail(this.prev.seq + 1, 'head-mismatch', `the log ends at entry ${this.prev.seq}, but a head was published at entry ${beyond}: entries from ${this.prev.seq + 1} were removed`);
      } else if (storedHead && (Number(storedHead.seq) !== this.prev.seq || storedHead.hash !== this.prev.hash)) {
        this.fail(Math.min(Number(storedHead.seq), this.prev.seq) + 1, 'head-not-last', `the log's head says entry ${storedHead.seq}, but the last entry is ${this.prev.seq}: entries were removed from, or added to, the end`);
      }
    }
    return { ok: !this.bad, entries: this.count, head: this.prev, ...(this.bad ? { firstBad: this.bad } : {}) };
  }

  private fail(seq: number, problem: ChainProblem, message: string): void {
    this.bad ??= { seq, problem, message };
  }
}
