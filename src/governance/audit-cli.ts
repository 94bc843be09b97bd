/** `kiln audit verify` (on the store directly), `kiln audit list` and `kiln audit export` (through the API). */
import { once } from 'node:events';
import type { Command } from 'commander';
import { clientFrom, clientOptions, type ClientFlags } from '../cli/client.js';
import { CliExit } from '../cli/exit.js';
import { formatTime, printJson, printTable } from '../cli/output.js';
import type { AuditEntry, AuditPage } from '@kiln-mlops/sdk/contract/audit-schemas';

function usage(cmd: Command, message: string): never {
  cmd.error(`error: ${message}`, { exitCode: 2, code: 'kiln.usage' });
}

const HEAD = /^(\d{1,15}):([0-9a-f]{64})$/;

/** `SEQ:HASH`, as `audit head` log lines, /metrics and GET /api/v1/audit/head give it. */
export function parseHead(value: string): { seq: number; hash: string } | undefined {
  const m = HEAD.exec(value.trim().toLowerCase());
  return m ? { seq: Number(m[1]), hash: m[2]! } : undefined;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A time for --since/--until: milliseconds since the epoch, an ISO 8601 date or time, or a duration ago (`90m`, `24h`, `7d`). */
export function parseTime(value: string, now = Date.now()): number | undefined {
  const v = value.trim();
  if (/^\d{10,}$/.test(v)) return Number(v);
  const ago = /^(\d+)([smhd])$/.exec(v);
  if (ago) return now - Number(ago[1]) * UNITS[ago[2]!]!;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

interface FilterFlags extends ClientFlags {
  actor?: string;
  action?: string;
  resourceType?: string;
  resourceId?: string;
  project?: string;
  outcome?: string;
  since?: string;
  until?: string;
}

/** The filter options `list` and `export` share. */
function filterOptions(cmd: Command): Command {
  return clientOptions(cmd)
    .option('--actor <name>', 'entries of this actor (a user, a service account, anonymous, system)')
    .option('--action <action>', 'entries of this action, or of a prefix ending in * (e.g. auth.*)')
    .option('--resource-type <type>', 'entries about this kind of resource (user, token, registered-model, dataset, …)')
    .option('--resource-id <id>', 'entries about this resource')
    .option('--project <id>', 'entries of this project (its id)')
    .option('--outcome <outcome>', 'ok, denied or failed')
    .option('--since <time>', 'entries at or after this time: ISO 8601, ms since the epoch, or a duration ago (24h, 7d)')
    .option('--until <time>', 'entries before this time (same forms)');
}

/** The query string of the filters. */
function filterQuery(flags: FilterFlags, cmd: Command): Record<string, string | number> {
  const q: Record<string, string | number> = {};
  if (flags.actor !== undefined) q.actor = flags.actor;
  if (flags.action !== undefined) q.action = flags.action;
  if (flags.resourceType !== undefined) q.resource_type = flags.resourceType;
  if (flags.resourceId !== undefined) q.resource_id = flags.resourceId;
  if (flags.project !== undefined) {
    if (!/^\d+$/.test(flags.project)) usage(cmd, `--project takes a project id (a number), got '${flags.project}'`);
    q.project_id = Number(flags.project);
  }
  if (flags.outcome !== undefined) {
    if (!['ok', 'denied', 'failed'].includes(flags.outcome)) usage(cmd, `--outcome must be ok, denied or failed, got '${flags.outcome}'`);
    q.outcome = flags.outcome;
  }
  for (const key of ['since', 'until'] as const) {
    const raw = flags[key];
    if (raw === undefined) continue;
    const t = parseTime(raw);
    if (t === undefined) usage(cmd, `--${key} takes an ISO 8601 time, ms since the epoch or a duration ago (24h, 7d), got '${raw}'`);
    q[key] = t;
  }
  return q;
}

const entryRow = (e: AuditEntry) => [e.seq, formatTime(e.time), e.actor, e.auth_method, e.source ?? '', e.action, e.resource_type === null ? '' : `${e.resource_type}:${e.resource_id ?? ''}`, e.outcome];

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('The audit log: verify its hash chain on the store, list and export its entries (admins)');

  audit
    .command('verify')
    .description("Verify the audit log's hash chain on the metadata store directly: exits 0 when intact, 1 naming the first entry modified, deleted, inserted or reordered")
    .option('--store <uri>', 'metadata store URI [env KILN_STORE_URI] (default ./.kiln/kiln.db)')
    .option('--expect-head <seq:hash...>', 'a head published earlier (the `audit head` log line, /metrics, GET /api/v1/audit/head): the chain must still pass through it, so a cut or rewritten tail shows')
    .option('--json', 'print the report as JSON')
    .action(async (flags: { store?: string; expectHead?: string[]; json?: boolean }, cmd: Command) => {
      const expect = (flags.expectHead ?? []).map((h) => parseHead(h) ?? usage(cmd, `--expect-head takes SEQ:HASH (a number, a colon, 64 hex digits), got '${h}'`));
      const [{ loadConfig }, { openStore, sqliteFileFromUri }, { AuditLog }, { existsSync }] = await Promise.all([
        import('../platform/config.js'),
        import('../platform/db/index.js'),
        import('../platform/audit/log.js'),
        import('node:fs'),
      ]);
      const uri = loadConfig({ storeUri: flags.store }).storeUri;
      // Opening a SQLite file that does not exist would create it.
      if (uri.startsWith('sqlite:') && !existsSync(sqliteFileFromUri(uri))) throw new Error(`No metadata store at ${uri}: the file does not exist.`);
      // Two connections read pages ahead, a third the head.
      const store = await openStore(uri, { poolSize: 3 });
      let report: Awaited<ReturnType<InstanceType<typeof AuditLog>['verify']>>;
      const started = performance.now();
      try {
        report = await new AuditLog(store).verify({ expect });
      } catch (e) {
        const message = e instanceof Error ? e.message : String(e);
        if (/audit_log|audit_head/.test(message) && /no such table|does not exist/.test(message)) throw new Error(`${store.uri} has no audit log: it is not a Kiln store, or it was not migrated yet (${message})`);
        throw e;
      } finally {
        await store.close();
      }
      const seconds = (performance.now() - started) / 1000;
      if (flags.json) {
        printJson({
          ok: report.ok,
          entries: report.entries,
          head: report.head,
          stored_head: report.storedHead ?? null,
          ...(report.firstBad ? { first_bad: report.firstBad } : {}),
          seconds: Math.round(seconds * 1000) / 1000,
        });
      } else if (report.ok) {
        process.stdout.write(`OK: ${report.entries} entries, head ${report.head.seq}:${report.head.hash}\n`);
      } else {
        const bad = report.firstBad!;
        process.stdout.write(`FAILED: entry ${bad.seq} ${bad.problem}: ${bad.message}\n`);
        process.stdout.write(`(${report.entries} entries read; the chain is intact up to entry ${report.head.seq})\n`);
      }
      if (!report.ok) throw new CliExit(1);
    });

  filterOptions(audit.command('list').description('Audit log entries, newest first (through the API; server admins)'))
    .option('--max-results <n>', 'how many (default 50, at most 1000)', '50')
    .option('--oldest-first', 'oldest first')
    .action(async (flags: FilterFlags & { maxResults: string; oldestFirst?: boolean }, cmd: Command) => {
      const n = Number(flags.maxResults);
      if (!Number.isInteger(n) || n < 1 || n > 1000) usage(cmd, '--max-results must be a whole number from 1 to 1000');
      const page = await clientFrom(flags).http.json<AuditPage>('GET', '/api/v1/audit', undefined, { ...filterQuery(flags, cmd), max_results: n, order: flags.oldestFirst ? 'asc' : 'desc' });
      if (flags.json) return printJson(page.entries);
      printTable(['SEQ', 'TIME', 'ACTOR', 'AUTH', 'SOURCE', 'ACTION', 'RESOURCE', 'OUTCOME'], page.entries.map(entryRow), { whole: [6] });
    });

  const exporter = filterOptions(audit.command('export').description('Every matching audit log entry as JSON lines on stdout, oldest first (through the API; server admins)'));
  // Its output is JSON lines already.
  exporter.options.find((o) => o.long === '--json')?.hideHelp();
  exporter.action(
    async (flags: FilterFlags, cmd: Command) => {
      const client = clientFrom(flags);
      const query = { ...filterQuery(flags, cmd), max_results: 1000, order: 'asc' };
      let token: string | undefined;
      do {
        const page: AuditPage = await client.http.json<AuditPage>('GET', '/api/v1/audit', undefined, token === undefined ? query : { ...query, page_token: token });
        // A slow reader (a pipe) holds the next page back rather than the whole export piling up in memory.
        if (page.entries.length > 0 && !process.stdout.write(page.entries.map((e) => JSON.stringify(e)).join('\n') + '\n')) await once(process.stdout, 'drain');
        token = page.next_page_token;
      } while (token !== undefined);
    },
  );
}
