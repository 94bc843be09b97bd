import * as crypto from 'node:crypto';

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

// Node's one-shot hash (20.12 and later) makes no Hash object: a fifth of the cost of hashing a short entry.
const oneShot = (crypto as unknown as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;

/** SHA-256 of a string's UTF-8 bytes, in hex. */
export const sha256Hex: (s: string) => string = oneShot ? (s) => oneShot('sha256', s, 'hex') : (s) => crypto.createHash('sha256').update(s).digest('hex');

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
  return sha256Hex(canonicalEntry(e));
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
  /** Entries with these numbers are gone (a gap, or deleted and the ones after renumbered). */
  | 'missing'
  /** Entries were added: before an intact entry that now sits further down, or after the stored head. */
  | 'inserted'
  /** An intact entry sits under another number than the one it was written with (rows swapped or moved). */
  | 'reordered'
  /** The entry does not follow the one before it (`prev_hash` differs): rewritten with a recomputed hash. */
  | 'broken-link'
  /** The log ends before the head stored beside it (audit_head), or before a head published earlier. */
  | 'truncated'
  /** The entry differs from the head stored or published for it: the chain was rewritten up to there. */
  | 'head-mismatch';

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
 * How far from its place a modified entry's original number is looked for (both ways): an intact entry moved by less
 * is named as moved (or the entries inserted or deleted before it), one moved further as modified.
 */
export const MOVE_SEARCH = 100_000;

/**
 * The number an entry was written with, when its content (under another number) gives its stored hash: it was moved
 * from there. Looked for nearest first, up to `distance` away. Undefined when no number in reach fits (modified).
 */
export function writtenAs(e: HashedAuditEntry, distance = MOVE_SEARCH): number | undefined {
  const seq = Number(e.seq);
  const fits = fitsAs(e);
  for (let d = 1; d <= distance; d++) {
    if (seq - d >= 1 && fits(seq - d)) return seq - d;
    if (fits(seq + d)) return seq + d;
  }
  return undefined;
}

/** Whether the entry's content, numbered `s`, gives its stored hash. */
function fitsAs(e: HashedAuditEntry): (s: number) => boolean {
  // The canonical form is `[seq,…]`: only its first field changes from one candidate to the next.
  const tail = canonicalEntry(e).slice(1 + String(e.seq).length);
  return (s) => sha256Hex('[' + s + tail) === e.hash;
}

/**
 * An entry as the verifier walks it: its number and hashes, whether its content gives its hash (checked by the
 * reader, e.g. from a canonical form the database wrote), and the entry itself when it does not, so that an intact
 * entry under another number is told from a modified one.
 */
export interface ChainLink {
  readonly seq: number;
  readonly prev_hash: string;
  readonly hash: string;
  /** Whether the entry's canonical content gives `hash`. */
  readonly intact: boolean;
  /** The whole entry; needed when it is not intact. */
  readonly entry?: HashedAuditEntry;
}

/**
 * Walks entries in seq order and reports the first one that is not what the chain says it should be. `expect`
 * heads (published earlier) must each lie on the chain; `storedHead` is the head the log keeps beside it.
 */
export class ChainVerifier {
  private prev: ChainHead = EMPTY_HEAD;
  private count = 0;
  private bad: ChainReport['firstBad'];
  /** An intact entry found under a smaller number than it was written with: the next entry tells deleted from moved. */
  private moved: { readonly seq: number; readonly was: number } | undefined;
  private readonly expected: Map<number, string>;

  constructor(
    expect: readonly ChainHead[] = [],
    private readonly moveSearch = MOVE_SEARCH,
  ) {
    this.expected = new Map(expect.map((h) => [Number(h.seq), h.hash]));
  }

  /** The last entry accepted so far. */
  get head(): ChainHead {
    return this.prev;
  }

  /** Feeds the next entries (ordered by seq). Returns false once a bad entry was found (reading further is useless). */
  push(entries: readonly HashedAuditEntry[]): boolean {
    return this.pushLinks(entries.map((e) => ({ seq: Number(e.seq), prev_hash: e.prev_hash, hash: e.hash, intact: entryHash(e) === e.hash, entry: e })));
  }

  /** Feeds the next entries as links, their content already checked (ordered by seq). Returns false once a bad entry was found. */
  pushLinks(links: readonly ChainLink[]): boolean {
    for (const e of links) {
      if (this.moved) {
        this.resolveMove(e);
        return false;
      }
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
      if (!e.intact) {
        const was = this.moveSearch > 0 && e.entry ? writtenAs(e.entry, this.moveSearch) : undefined;
        if (was !== undefined && was > seq) {
          this.moved = { seq, was };
          continue;
        }
        this.failModified(seq, was);
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
    return !this.bad;
  }

  /** The report once every entry was pushed; `storedHead` is the log's own head row, when there is one. */
  finish(storedHead?: ChainHead): ChainReport {
    if (this.moved) this.resolveMove(undefined);
    if (!this.bad) {
      const last = this.prev.seq;
      const beyond = [...this.expected.keys()].filter((s) => s > last).sort((a, b) => a - b)[0];
      const stored = storedHead ? { seq: Number(storedHead.seq), hash: storedHead.hash } : undefined;
      if (beyond !== undefined) {
        this.fail(last + 1, 'truncated', `the log ends at entry ${last}, but a head was published at entry ${beyond}: entries from ${last + 1} were removed`);
      } else if (stored && stored.seq > last) {
        this.fail(last + 1, 'truncated', `the log's head says entry ${stored.seq}, but the last entry is ${last}: entries ${last + 1}${stored.seq > last + 1 ? `–${stored.seq}` : ''} were removed from the end`);
      } else if (stored && stored.seq < last) {
        this.fail(stored.seq + 1, 'inserted', `the log's head says entry ${stored.seq}, but entries follow it up to ${last}: entries were added after the head`);
      } else if (stored && stored.hash !== this.prev.hash) {
        this.fail(last, 'head-mismatch', `entry ${last} differs from the log's head (${stored.seq}:${stored.hash.slice(0, 12)}…): the last entry or the head was rewritten`);
      }
    }
    return { ok: !this.bad, entries: this.count, head: this.prev, ...(this.bad ? { firstBad: this.bad } : {}) };
  }

  /**
   * An entry whose content does not give its hash: modified, unless it is an intact entry written under a smaller
   * number (`was`), in which case entries were inserted before it.
   */
  private failModified(seq: number, was: number | undefined): void {
    if (was === undefined) {
      this.fail(seq, 'modified', `entry ${seq} was modified: its content does not give its stored hash`);
    } else {
      // Entries before it (from its old place on) were inserted, linked well enough to pass up to here.
      this.fail(was, 'inserted', `entry ${seq} was written as entry ${was}: ${seq - was === 1 ? `an entry was inserted at ${was}` : `${seq - was} entries were inserted from ${was}`} and the ones after renumbered`);
    }
  }

  /**
   * An intact entry sits at `seq` but was written as `was` (greater): the entries from `seq` to `was - 1` were
   * deleted and the ones after renumbered when the next entry continues the shift (or none follows), else the rows
   * were swapped or moved.
   */
  private resolveMove(next: ChainLink | undefined): void {
    const { seq, was } = this.moved!;
    this.moved = undefined;
    if (next === undefined || (!next.intact && next.entry !== undefined && fitsAs(next.entry)(was + 1))) {
      this.fail(seq, 'missing', `entry ${seq} was written as entry ${was}: ${was - seq === 1 ? `entry ${seq} was` : `entries ${seq}–${was - 1} were`} deleted and the ones after renumbered`);
    } else {
      this.fail(seq, 'reordered', `entry ${seq} was written as entry ${was}: entries were swapped or moved`);
    }
  }

  private fail(seq: number, problem: ChainProblem, message: string): void {
    this.bad ??= { seq, problem, message };
  }
}
