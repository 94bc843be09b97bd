import { sql, type Kysely, type Transaction } from 'kysely';
import type { MetadataStore, ResultColumns } from '../db/types.js';
import { currentContext } from '../auth/context.js';
import { SYSTEM } from '../auth/principal.js';
import { ChainVerifier, entryHash, linkEntries, sha256Hex, type AuditEntry, type ChainHead, type ChainLink, type ChainReport, type HashedAuditEntry } from './chain.js';
import type { AuditTables } from './tables.js';

export type AuditOutcome = 'ok' | 'denied' | 'failed';

/** What a change records about itself; who did it, from where and when come from the request context. */
export interface AuditRecord {
  /** What was done, `<capability>.<verb>` (e.g. `auth.token_created`, `registry.alias_set`). */
  readonly action: string;
  readonly resourceType?: string | null;
  readonly resourceId?: string | null;
  readonly projectId?: number | null;
  /** Default `ok`; `denied` for a refused request, `failed` for one that went wrong. */
  readonly outcome?: AuditOutcome;
  /**
   * A small JSON object saying what changed. Never a secret: string values under keys that name passwords, secrets,
   * tokens or credentials are replaced by `[redacted]` anyway, and the whole is trimmed to MAX_DETAILS_LENGTH.
   */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** Records an entry in the transaction being run: it is appended, with the others, when the transaction ends. */
export type RecordAudit = (record: AuditRecord) => void;

/** Who acted and from where: the request context's, or given where there is none yet (a refused sign-in). */
export interface Attribution {
  readonly actor: string;
  /** user, service, anonymous, system. */
  readonly actorKind: string;
  /** none, password, token, session, oidc, jwt, system. */
  readonly authMethod: string;
  readonly source: string | null;
  readonly requestId: string | null;
}

/** The attribution of the request being served, or of the server itself (the system principal) outside any request. */
export function currentAttribution(): Attribution {
  const ctx = currentContext();
  const p = ctx?.principal ?? SYSTEM;
  return { actor: p.name, actorKind: p.kind, authMethod: p.method, source: ctx?.source ?? null, requestId: ctx?.requestId ?? null };
}

/** The longest `details` stored (characters of JSON); longer ones are trimmed (see detailsJson). */
export const MAX_DETAILS_LENGTH = 4096;

/** Keys whose string values never reach the log. `token_id` (the public part of a token) does. */
const SECRET_KEY = /password|secret|passphrase|credential|^token$|^authorization$|^api[_-]?key$|^cookie$/i;

/**
 * `details` as stored: JSON of the object with secrets redacted; when longer than `max`, long strings and arrays are
 * cut and then nested values dropped until it fits, and `"trimmed": true` says so.
 */
export function detailsJson(details: Readonly<Record<string, unknown>> | undefined, max = MAX_DETAILS_LENGTH): string {
  if (details === undefined) return '{}';
  const redact = (key: string, v: unknown) => (typeof v === 'string' && SECRET_KEY.test(key) ? '[redacted]' : v);
  const full = JSON.stringify(details, redact) ?? '{}';
  if (full.length <= max) return full;
  const shortened = (strings: number, items: number, depth: number) => {
    // How deep each object or array written so far sits (the root's holder, JSON.stringify's wrapper, is not in it).
    const depthOf = new WeakMap<object, number>();
    return JSON.stringify({ ...details, trimmed: true }, function (this: object, key: string, value: unknown) {
      const level = (depthOf.get(this) ?? -1) + 1;
      const v = redact(key, value);
      if (typeof v === 'string') return v.length > strings ? v.slice(0, strings) + '…' : v;
      if (v === null || typeof v !== 'object') return v;
      if (level > depth) return Array.isArray(v) ? `[${v.length} items]` : '{…}';
      const out: object = Array.isArray(v) && v.length > items ? [...v.slice(0, items), `… ${v.length - items} more`] : v;
      depthOf.set(out, level);
      return out;
    });
  };
  for (const [strings, items, depth] of [
    [200, 20, 3],
    [64, 5, 1],
    [32, 0, 0],
  ] as const) {
    const s = shortened(strings, items, depth);
    if (s.length <= max) return s;
  }
  return '{"trimmed":true}';
}

export interface AuditFilters {
  readonly actor?: string;
  /** An action, or a prefix ending in `*` (`auth.*`). */
  readonly action?: string;
  readonly resourceType?: string;
  readonly resourceId?: string;
  readonly projectId?: number;
  readonly outcome?: string;
  /** Entries at or after this time (ms). */
  readonly since?: number;
  /** Entries before this time (ms). */
  readonly until?: number;
}

export interface AuditPageRequest {
  readonly limit: number;
  /** Newest first (default) or oldest first. */
  readonly order?: 'desc' | 'asc';
  /** The seq the previous page ended at (keyset paging): the page starts after it in `order`. */
  readonly after?: number;
}

export interface AuditPage {
  readonly entries: HashedAuditEntry[];
  /** Where the next page starts (`after` of the next request), when there is one. */
  readonly next?: number;
}

export interface AuditVerifyOptions {
  /** Heads published earlier (logs, /metrics) that must lie on the chain: a tail cut or rewritten since shows against them. */
  readonly expect?: readonly ChainHead[];
  /** Entries read per query (default 10,000). */
  readonly pageSize?: number;
}

export interface AuditVerification extends ChainReport {
  /** The head row stored beside the log (audit_head), as read at the end. */
  readonly storedHead: ChainHead | undefined;
}

const INTEGER_COLUMNS = new Set(['seq', 'time', 'project_id']);
const COLUMNS = ['seq', 'time', 'actor', 'actor_kind', 'auth_method', 'source', 'request_id', 'action', 'resource_type', 'resource_id', 'project_id', 'outcome', 'details', 'prev_hash', 'hash'] as const;

/**
 * The audit log: an append-only, hash-chained record of every change and every authentication event (see chain.ts
 * and docs/design/governance.md, "The audit chain").
 *
 * Writing: entries are appended at the end of the transaction of the change they describe (`append`, or through
 * `transaction`; the event log appends one per event it appends). Appending first updates the one row of
 * `audit_head` (`seq = seq + n`), which numbers the new entries and locks that row until the transaction ends: appending
 * transactions therefore commit one after another in seq order, so the chain has no gaps and each entry links to the
 * one committed before it. The lock is taken last, just before the commit, so it is held for a moment. What has no
 * transaction of its own (a refused sign-in) is recorded alone (`recordAlone`).
 *
 * Reading: `list` pages by seq, newest first; `verify` walks the whole chain in seq order.
 */
export class AuditLog {
  private readonly db: Kysely<AuditTables>;

  constructor(
    private readonly store: MetadataStore,
    private readonly now: () => number = Date.now,
  ) {
    this.db = store.db.withTables<AuditTables>();
  }

  /**
   * Appends entries inside the caller's transaction, as its last writes; attributed to `who` (default: the request
   * context's). Returns the new head. Holds the head row's lock until the transaction ends: call it last.
   */
  async append<DB>(trx: Transaction<DB>, records: readonly AuditRecord[], who: Attribution = currentAttribution()): Promise<ChainHead> {
    if (records.length === 0) return this.head(trx);
    // The caller's transaction, seen through the audit tables only.
    const t = trx as unknown as Transaction<AuditTables>;
    const n = records.length;
    const row = await t
      .updateTable('audit_head')
      .set((eb) => ({ seq: eb('seq', '+', n) }))
      .returning(['seq', 'hash'])
      .executeTakeFirst();
    if (!row) throw new Error('the audit log has no head row (audit_head): the store was not migrated, or the row was deleted; no change can be recorded');
    const time = this.now();
    const linked = linkEntries(
      { seq: Number(row.seq) - n, hash: row.hash },
      records.map((r) => ({
        time,
        actor: storable(who.actor),
        actor_kind: storable(who.actorKind),
        auth_method: storable(who.authMethod),
        source: storableOrNull(who.source),
        request_id: storableOrNull(who.requestId),
        action: storable(r.action),
        resource_type: storableOrNull(r.resourceType),
        resource_id: storableOrNull(r.resourceId),
        project_id: r.projectId ?? null,
        outcome: r.outcome ?? 'ok',
        details: detailsJson(r.details),
      })),
    );
    // Well under either engine's limit of bound parameters (SQLite 32,766; PostgreSQL 65,535) per statement.
    for (let i = 0; i < linked.entries.length; i += 1000) await t.insertInto('audit_log').values(linked.entries.slice(i, i + 1000)).execute();
    await t.updateTable('audit_head').set({ hash: linked.head.hash }).execute();
    return linked.head;
  }

  /** Runs `fn` in a transaction of `db`; the entries it records are appended at its end. A rolled-back transaction leaves none. */
  async transaction<DB, T>(db: Kysely<DB>, fn: (trx: Transaction<DB>, record: RecordAudit) => Promise<T>): Promise<T> {
    return db.transaction().execute(async (trx) => {
      const pending: AuditRecord[] = [];
      const result = await fn(trx, (r) => void pending.push(r));
      if (pending.length > 0) await this.append(trx, pending);
      return result;
    });
  }

  /** Records one entry in a small transaction of its own: what changes nothing (a refused request, a sign-in). Returns the new head. */
  async recordAlone(record: AuditRecord, who: Attribution = currentAttribution()): Promise<ChainHead> {
    return this.db.transaction().execute((trx) => this.append(trx, [record], who));
  }

  /** The head: the last entry's seq and hash (seq 0 and GENESIS_HASH when the log is empty); in `db`, a transaction, when given. */
  async head<DB>(db?: Kysely<DB>): Promise<ChainHead> {
    const rows = await ((db as unknown as Kysely<AuditTables> | undefined) ?? this.db).selectFrom('audit_head').select(['seq', 'hash']).execute();
    const row = rows[0];
    if (!row) throw new Error('the audit log has no head row (audit_head): the store was not migrated, or the row was deleted');
    return { seq: Number(row.seq), hash: row.hash };
  }

  /** One page of entries matching the filters, newest first unless asked otherwise. */
  async list(filters: AuditFilters, page: AuditPageRequest): Promise<AuditPage> {
    const desc = page.order !== 'asc';
    let q = this.db.selectFrom('audit_log').select(COLUMNS);
    if (filters.actor !== undefined) q = q.where('actor', '=', filters.actor);
    if (filters.action !== undefined) {
      const a = filters.action;
      q = a.endsWith('*') ? q.where(sql<boolean>`${sql.ref('action')} like ${escapeLike(a.slice(0, -1)) + '%'} escape '\\'`) : q.where('action', '=', a);
    }
    if (filters.resourceType !== undefined) q = q.where('resource_type', '=', filters.resourceType);
    if (filters.resourceId !== undefined) q = q.where('resource_id', '=', filters.resourceId);
    if (filters.projectId !== undefined) q = q.where('project_id', '=', filters.projectId);
    if (filters.outcome !== undefined) q = q.where('outcome', '=', filters.outcome);
    if (filters.since !== undefined) q = q.where('time', '>=', filters.since);
    if (filters.until !== undefined) q = q.where('time', '<', filters.until);
    if (page.after !== undefined) q = q.where('seq', desc ? '<' : '>', page.after);
    const rows = await q
      .orderBy('seq', desc ? 'desc' : 'asc')
      .limit(page.limit + 1)
      .execute();
    const entries = rows.slice(0, page.limit).map(normalize);
    return rows.length > page.limit ? { entries, next: entries[entries.length - 1]!.seq } : { entries };
  }

  /**
   * Walks the whole log in seq order, recomputing every hash and link (ChainVerifier), and compares its end with the
   * head stored beside it and with the heads given in `expect`. Reads committed entries in pages while the server
   * may be appending: entries committed during the walk are read too, up to a head read after them.
   */
  async verify(opts: AuditVerifyOptions = {}): Promise<AuditVerification> {
    const pageSize = opts.pageSize ?? 10_000;
    const verifier = new ChainVerifier(opts.expect ?? []);
    const p = this.store.adapter.placeholder;
    // The canonical form of each entry is written by the database (no fifteen values per row to parse and hand
    // over); an entry whose form does not give its hash is read whole and checked here before it is called bad.
    const canonical = this.store.adapter.jsonArraySql(COLUMNS.filter((c) => c !== 'hash').map((c) => ({ expr: c, type: INTEGER_COLUMNS.has(c) ? 'integer' : 'text' })));
    const pageSql = `select seq, hash, ${canonical} from audit_log where seq > ${p(1)} order by seq limit ${p(2)}`;
    const readHead = async () => {
      const rows = await this.db.selectFrom('audit_head').select(['seq', 'hash']).execute();
      return { head: rows[0] ? { seq: Number(rows[0].seq), hash: rows[0].hash } : undefined, rows: rows.length };
    };
    const done = (stored: { head: ChainHead | undefined; rows: number }): AuditVerification => {
      const report = verifier.finish(stored.head);
      if (!report.ok || stored.rows === 1) return { ...report, storedHead: stored.head };
      const problem = `the log's head table (audit_head) has ${stored.rows} rows instead of one`;
      return { ...report, ok: false, storedHead: stored.head, firstBad: { seq: report.head.seq, problem: 'head-mismatch', message: problem } };
    };
    // Pages are read ahead while this one is hashed: the next two, guessing that entries are numbered without gaps
    // (the seq a page starts after is then known before the page before it arrives); a wrong guess is dropped.
    // Reads still running when the walk ends (guesses past its end) are waited for: nothing is left behind it.
    const running = new Set<Promise<void>>();
    const read = (from: number): Promise<ResultColumns> => {
      const r = this.store.selectColumns(pageSql, [from, pageSize]);
      const settled: Promise<void> = r.then(
        () => void running.delete(settled),
        () => void running.delete(settled),
      );
      running.add(settled);
      return r;
    };
    const ahead = new Map<number, Promise<ResultColumns>>();
    const guess = (from: number) => {
      if (ahead.has(from)) return;
      const r = read(from);
      r.catch(() => undefined);
      ahead.set(from, r);
    };
    try {
      // The head row moves forward in the same transactions as the entries: a page read after the head was read
      // holds every entry up to it.
      let stored = await readHead();
      let after = 0;
      guess(pageSize);
      for (;;) {
        const asked = ahead.get(after);
        ahead.delete(after);
        const page = await (asked ?? read(after));
        const full = page.rowCount === pageSize;
        if (page.rowCount > 0) {
          const last = Number(page.columns[0]![page.rowCount - 1]);
          if (last !== after + page.rowCount) ahead.clear();
          after = last;
        }
        if (full) {
          guess(after);
          guess(after + pageSize);
        } else {
          ahead.clear();
        }
        if (page.rowCount > 0) {
          if (!verifier.pushLinks(await this.links(page.columns, page.rowCount))) return { ...verifier.finish(), storedHead: stored.head };
          if (full) continue;
        }
        // The log ends at `after`. Short of the head read before: a cut tail. At it: compare. Beyond it: entries were
        // appended meanwhile (read them up to a newer head), unless the head has not moved (entries added beyond it).
        if (stored.head === undefined || after <= stored.head.seq) return done(stored);
        const newer = await readHead();
        if (newer.head === undefined || newer.head.seq <= after) return done(newer);
        stored = newer;
      }
    } finally {
      await Promise.all(running);
    }
  }

  /**
   * The links of a page (seq, hash, canonical form). An entry whose form gives its hash is as it was written, and its
   * form ends with its `prev_hash` (64 hex digits, quoted); the others are read whole and checked again.
   */
  private async links(columns: readonly (Float64Array | readonly unknown[])[], n: number): Promise<ChainLink[]> {
    const [seqs, hashes, forms] = columns as (readonly unknown[])[];
    const links: ChainLink[] = new Array(n);
    const suspects: number[] = [];
    for (let i = 0; i < n; i++) {
      const form = forms![i];
      const hash = hashes![i] as string;
      const intact = typeof form === 'string' && sha256Hex(form) === hash;
      links[i] = { seq: Number(seqs![i]), prev_hash: intact ? form.slice(-66, -2) : '', hash, intact };
      if (!intact) suspects.push(i);
    }
    for (let k = 0; k < suspects.length; k += 1000) {
      const batch = suspects.slice(k, k + 1000);
      const rows = await this.db
        .selectFrom('audit_log')
        .select(COLUMNS)
        .where(
          'seq',
          'in',
          batch.map((i) => links[i]!.seq),
        )
        .execute();
      const bySeq = new Map(rows.map((r) => [Number(r.seq), normalize(r)]));
      for (const i of batch) {
        const entry = bySeq.get(links[i]!.seq);
        if (entry) links[i] = { ...links[i]!, prev_hash: entry.prev_hash, intact: entryHash(entry) === entry.hash, entry };
      }
    }
    return links;
  }
}

// PostgreSQL's bigint columns arrive as numbers (see db/postgres/connect.ts); SQLite's integers too.
function normalize(r: AuditEntry & { hash: string }): HashedAuditEntry {
  return { ...r, seq: Number(r.seq), time: Number(r.time), project_id: r.project_id === null ? null : Number(r.project_id) };
}

/**
 * A string as both engines store and return it unchanged, so that its hash still holds when it is read back: a NUL
 * (PostgreSQL refuses it) and a lone surrogate half (not UTF-8) become U+FFFD. `details` needs none of it: JSON
 * escapes both.
 */
function storable(s: string): string {
  return s.replace(/\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

function storableOrNull(s: string | null | undefined): string | null {
  return s === null || s === undefined ? null : storable(s);
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => '\\' + c);
}
