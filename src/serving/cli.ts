import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { clientFrom, clientOptions, type ClientFlags } from '../cli/client.js';
import { formatTime, printJson, printTable } from '../cli/output.js';
import type { Deployment, DeploymentConfigInput, Revision } from '@kiln-mlops/sdk/contract/serving-schemas';

interface ConfigFlags {
  model?: string;
  target?: string[];
  shadow?: string;
  shadowFraction?: string;
  noShadow?: boolean;
  stickyHeader?: string;
  batching?: boolean;
  maxBatchSize?: string;
  maxQueueDelayMs?: string;
  maxQueueSize?: string;
  timeoutMs?: string;
  sampleRate?: string;
  sessions?: string;
  threads?: string;
  guardErrorRate?: string;
  guardP99Ms?: string;
  guardWindow?: string;
  guardMinRequests?: string;
  noGuard?: boolean;
  description?: string;
  reason?: string;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

function num(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new Error(`${flag} takes a number, got '${v}'`);
  return n;
}

/** The configuration change the flags describe (only what they name). */
function configOf(f: ConfigFlags): DeploymentConfigInput {
  const c: Record<string, unknown> = {};
  if (f.model !== undefined) c.model = f.model;
  if (f.target) {
    c.targets = f.target.map((t) => {
      const i = t.lastIndexOf('=');
      if (i <= 0) return { model: t };
      return { model: t.slice(0, i), weight: num('--target weight', t.slice(i + 1)) };
    });
  }
  if (f.noShadow) c.shadow = null;
  else if (f.shadow !== undefined) c.shadow = { model: f.shadow, fraction: num('--shadow-fraction', f.shadowFraction) ?? 1 };
  if (f.stickyHeader !== undefined) c.sticky_header = f.stickyHeader === '' ? null : f.stickyHeader;
  const batching = {
    ...(f.batching !== undefined ? { enabled: f.batching } : {}),
    ...(f.maxBatchSize !== undefined ? { max_batch_size: num('--max-batch-size', f.maxBatchSize) } : {}),
    ...(f.maxQueueDelayMs !== undefined ? { max_queue_delay_ms: num('--max-queue-delay-ms', f.maxQueueDelayMs) } : {}),
    ...(f.maxQueueSize !== undefined ? { max_queue_size: num('--max-queue-size', f.maxQueueSize) } : {}),
    ...(f.timeoutMs !== undefined ? { timeout_ms: num('--timeout-ms', f.timeoutMs) } : {}),
  };
  if (Object.keys(batching).length > 0) c.batching = batching;
  if (f.sampleRate !== undefined) c.payload_log = { sample_rate: num('--sample-rate', f.sampleRate) };
  const resources = { ...(f.sessions !== undefined ? { sessions: num('--sessions', f.sessions) } : {}), ...(f.threads !== undefined ? { intra_op_threads: num('--threads', f.threads) } : {}) };
  if (Object.keys(resources).length > 0) c.resources = resources;
  if (f.noGuard) c.guard = null;
  else if (f.guardErrorRate !== undefined || f.guardP99Ms !== undefined) {
    c.guard = {
      ...(f.guardErrorRate !== undefined ? { max_error_rate: num('--guard-error-rate', f.guardErrorRate) } : {}),
      ...(f.guardP99Ms !== undefined ? { max_p99_ms: num('--guard-p99-ms', f.guardP99Ms) } : {}),
      window_seconds: num('--guard-window', f.guardWindow) ?? 60,
      min_requests: num('--guard-min-requests', f.guardMinRequests) ?? 20,
    };
  }
  return c as DeploymentConfigInput;
}

function configOptions(cmd: Command): Command {
  return cmd
    .option('--target <uri[=weight]>', 'a version receiving traffic, with its weight (repeat for a canary: --target models:/m/3=90 --target models:/m/4=10)', collect)
    .option('--shadow <uri>', 'a version that gets a copy of the requests (answers logged, never returned)')
    .option('--shadow-fraction <f>', 'fraction of requests copied to the shadow (default 1)')
    .option('--no-shadow', 'remove the shadow')
    .option('--sticky-header <name>', "requests with the same value of this header go to the same target ('' removes it)")
    .option('--batching', 'combine concurrent requests into batches (default on)')
    .option('--no-batching', 'run every request alone')
    .option('--max-batch-size <rows>', 'rows per batch (default 64)')
    .option('--max-queue-delay-ms <ms>', 'how long the oldest request waits for more rows (default 0: batches form while the model is busy)')
    .option('--max-queue-size <n>', 'requests waiting at most; then 503 (default 2048)')
    .option('--timeout-ms <ms>', 'a request still queued after this long fails with 503 (default 30000)')
    .option('--sample-rate <f>', 'fraction of requests written to the payload log (default 1)')
    .option('--sessions <n>', 'onnxruntime sessions (worker threads) per version (default 1)')
    .option('--threads <n>', "threads inside one session's operators (default 1; 0: onnxruntime's default)")
    .option('--guard-error-rate <f>', 'canary guard: a candidate whose error rate over the window passes this loses its traffic')
    .option('--guard-p99-ms <ms>', 'canary guard: a candidate whose p99 latency over the window passes this loses its traffic')
    .option('--guard-window <s>', 'canary guard window in seconds (default 60)')
    .option('--guard-min-requests <n>', 'requests a candidate must have answered in the window before it is judged (default 20)')
    .option('--no-guard', 'remove the canary guard')
    .option('--description <text>', 'what the deployment is for')
    .option('--reason <text>', 'why (recorded in the history)');
}

function traffic(d: Deployment): string {
  const total = d.resolved.targets.reduce((a, t) => a + t.weight, 0) || 1;
  const parts = d.resolved.targets.map((t) => `${t.name}/${t.version} ${Math.round((t.weight / total) * 1000) / 10}%`);
  if (d.resolved.shadow) parts.push(`shadow ${d.resolved.shadow.name}/${d.resolved.shadow.version} ${Math.round(d.resolved.shadow.fraction * 1000) / 10}%`);
  return parts.join(', ');
}

function state(d: Deployment): string {
  const s = d.status ?? [];
  if (s.length === 0) return '';
  if (s.some((x) => x.state === 'failed')) return 'failed';
  if (s.every((x) => x.state === 'ready')) return 'ready';
  if (s.some((x) => x.state === 'loading')) return 'loading';
  return 'idle';
}

function printDeployment(d: Deployment): void {
  process.stdout.write(`${d.name} (project ${d.project}), revision ${d.revision}\n`);
  if (d.description) process.stdout.write(`  ${d.description}\n`);
  process.stdout.write(`  traffic: ${traffic(d)}\n`);
  for (const t of d.config.targets) process.stdout.write(`  target ${t.model} weight ${t.weight}\n`);
  if (d.config.shadow) process.stdout.write(`  shadow ${d.config.shadow.model} fraction ${d.config.shadow.fraction}\n`);
  if (d.config.sticky_header) process.stdout.write(`  sticky by header ${d.config.sticky_header}\n`);
  const b = d.config.batching;
  process.stdout.write(`  batching: ${b.enabled ? `up to ${b.max_batch_size} rows, wait ${b.max_queue_delay_ms} ms` : 'off'}, queue ${b.max_queue_size}, timeout ${b.timeout_ms} ms\n`);
  process.stdout.write(`  payload log: ${d.config.payload_log.sample_rate * 100}% of requests; sessions ${d.config.resources.sessions}, threads ${d.config.resources.intra_op_threads}\n`);
  if (d.config.guard) process.stdout.write(`  guard: ${JSON.stringify(d.config.guard)}\n`);
  for (const s of d.status ?? []) process.stdout.write(`  ${s.name}/${s.version}: ${s.state}${s.error ? ` (${s.error})` : ''}\n`);
  process.stdout.write(`  OIP: /v2/models/${d.name}/infer   MLflow: /deployments/${d.name}/invocations\n`);
}

function printRevisions(list: readonly Revision[]): void {
  printTable(
    ['REV', 'KIND', 'WHEN', 'WHO', 'TRAFFIC', 'REASON'],
    list.map((r) => [r.revision, r.kind, formatTime(r.time), r.actor, r.resolved.targets.map((t) => `${t.name}/${t.version}:${t.weight}`).join(' ') + (r.resolved.shadow ? ` shadow ${r.resolved.shadow.name}/${r.resolved.shadow.version}` : ''), r.reason ?? '']),
    { whole: [5] },
  );
}

export function registerServingCommands(program: Command): void {
  const dep = program.command('deployments').description('Deployments: serve registered models over the Open Inference Protocol (traffic split, canary, shadow, rollback)');

  clientOptions(dep.command('list').description('List deployments'))
    .option('--project <name>', 'only this project')
    .action(async (flags: ClientFlags & { project?: string }) => {
      const page = await clientFrom(flags).deployments.list({ project: flags.project, maxResults: 1000 });
      if (flags.json) return printJson({ deployments: page.items });
      printTable(['NAME', 'PROJECT', 'REV', 'STATE', 'TRAFFIC', 'UPDATED'], page.items.map((d) => [d.name, d.project, d.revision, state(d), traffic(d), formatTime(d.last_update_time)]), { whole: [0, 4] });
    });

  configOptions(clientOptions(dep.command('create').description('Create a deployment of a registered model version (models:/NAME@ALIAS follows the alias)').argument('<name>', "the deployment's name (its OIP model name)")))
    .option('--model <uri>', 'models:/NAME@ALIAS (followed: rolls forward when the alias moves) or models:/NAME/VERSION')
    .action(async (name: string, flags: ClientFlags & ConfigFlags) => {
      const d = await clientFrom(flags).deployments.create(name, { ...configOf(flags), ...(flags.description !== undefined ? { description: flags.description } : {}), ...(flags.reason !== undefined ? { reason: flags.reason } : {}) });
      if (flags.json) return printJson({ deployment: d });
      printDeployment(d);
    });

  clientOptions(dep.command('get').description('Show a deployment').argument('<name>')).action(async (name: string, flags: ClientFlags) => {
    const d = await clientFrom(flags).deployments.get(name);
    if (flags.json) return printJson({ deployment: d });
    printDeployment(d);
  });

  configOptions(clientOptions(dep.command('update').description('Change a deployment (a new revision; what is not named keeps its value)').argument('<name>')))
    .option('--model <uri>', 'serve this model URI alone (replaces the targets)')
    .action(async (name: string, flags: ClientFlags & ConfigFlags) => {
      const d = await clientFrom(flags).deployments.update(name, { ...configOf(flags), ...(flags.description !== undefined ? { description: flags.description } : {}), ...(flags.reason !== undefined ? { reason: flags.reason } : {}) });
      if (flags.json) return printJson({ deployment: d });
      printDeployment(d);
    });

  clientOptions(dep.command('delete').description('Delete a deployment, its history and its payload log').argument('<name>')).action(async (name: string, flags: ClientFlags) => {
    await clientFrom(flags).deployments.delete(name);
    if (flags.json) return printJson({});
    process.stdout.write(`Deleted deployment ${name}\n`);
  });

  clientOptions(dep.command('history').description('Every configuration the deployment had, newest first').argument('<name>')).action(async (name: string, flags: ClientFlags) => {
    const list = await clientFrom(flags).deployments.revisions(name);
    if (flags.json) return printJson({ revisions: list });
    printRevisions(list);
  });

  clientOptions(dep.command('rollback').description('Restore an earlier configuration (default: the one before the current) as a new revision').argument('<name>'))
    .option('--to <revision>', 'the revision to restore')
    .option('--reason <text>', 'why (recorded in the history)')
    .action(async (name: string, flags: ClientFlags & { to?: string; reason?: string }) => {
      const to = num('--to', flags.to);
      const d = await clientFrom(flags).deployments.rollback(name, { ...(to !== undefined ? { to } : {}), ...(flags.reason !== undefined ? { reason: flags.reason } : {}) });
      if (flags.json) return printJson({ deployment: d });
      process.stdout.write(`Rolled ${name} back: now at revision ${d.revision}\n`);
      printDeployment(d);
    });

  clientOptions(dep.command('stats').description("Per-version live figures from the server's counters (rate, errors, p50/p99, shadow disagreement)").argument('<name>'))
    .option('--window <seconds>', 'over the last N seconds (default 60)')
    .action(async (name: string, flags: ClientFlags & { window?: string }) => {
      const s = await clientFrom(flags).deployments.stats(name, num('--window', flags.window));
      if (flags.json) return printJson(s);
      const ms = (v: number | null | undefined) => (v === null || v === undefined ? '' : v.toFixed(2));
      printTable(
        ['VERSION', 'ROLE', 'WEIGHT', 'REQUESTS', 'ERRORS', 'RATE/S', 'ERR%', 'P50 MS', 'P99 MS', 'DISAGREE%'],
        s.versions.map((v) => [`${v.name}/${v.version}`, v.role, v.weight, v.requests, v.errors, v.rate_per_second.toFixed(1), (v.error_rate * 100).toFixed(1), ms(v.p50_ms), ms(v.p99_ms), v.disagreement_rate === undefined || v.disagreement_rate === null ? '' : (v.disagreement_rate * 100).toFixed(1)]),
      );
    });

  clientOptions(dep.command('payloads').description('The payload log: requests and responses, newest first').argument('<name>'))
    .option('--request-id <id>', 'the record of one request')
    .option('--version <n>', 'only this model version')
    .option('--since <ms>', 'from this time (ms since the epoch)')
    .option('--until <ms>', 'before this time (ms since the epoch)')
    .option('--max-results <n>', 'page size (default 20)', '20')
    .option('--format <format>', 'export every match: jsonl or parquet (with --output)')
    .option('--output <file>', 'where the export goes')
    .action(async (name: string, flags: ClientFlags & { requestId?: string; version?: string; since?: string; until?: string; maxResults: string; format?: string; output?: string }) => {
      const client = clientFrom(flags);
      const q = { version: num('--version', flags.version), requestId: flags.requestId, startTime: num('--since', flags.since), endTime: num('--until', flags.until) };
      if (flags.format !== undefined) {
        if (flags.format !== 'jsonl' && flags.format !== 'parquet') throw new Error(`--format is jsonl or parquet, got '${flags.format}'`);
        const res = await client.http.send('GET', `/api/v1/deployments/${encodeURIComponent(name)}/payloads`, undefined, { format: flags.format, version: q.version, request_id: q.requestId, start_time: q.startTime, end_time: q.endTime });
        const bytes = Buffer.from(await res.arrayBuffer());
        if (flags.output) {
          await writeFile(flags.output, bytes);
          process.stderr.write(`Wrote ${bytes.length} bytes to ${flags.output}\n`);
        } else process.stdout.write(bytes);
        return;
      }
      const page = await client.deployments.payloads(name, { ...q, maxResults: num('--max-results', flags.maxResults) });
      if (flags.json) return printJson({ payloads: page.items, next_page_token: page.nextPageToken });
      printTable(
        ['TIME', 'REQUEST ID', 'VERSION', 'STATUS', 'MS', 'PROTOCOL', 'SHADOW'],
        page.items.map((p) => [formatTime(p.time), p.request_id, p.version, p.status, p.latency_ms.toFixed(2), p.protocol, p.shadow ? `v${p.shadow.version} ${p.shadow.agrees === null ? 'failed' : p.shadow.agrees ? 'agrees' : 'differs'}` : '']),
        { whole: [1] },
      );
    });

  program
    .command('serve')
    .description('Start a serving-only replica: inference endpoints (OIP REST and gRPC, MLflow scoring), no control-plane API; deployments from the metadata store, models from the artifact store')
    .option('--host <host>', 'interface to bind [env KILN_HOST] (default 127.0.0.1)')
    .option('--port <port>', 'TCP port [env KILN_PORT] (default 5000)')
    .option('--grpc-port <port>', 'port of the OIP gRPC service [env KILN_GRPC_PORT] (default 0: off)')
    .option('--store <uri>', 'metadata store, as the server uses it [env KILN_STORE_URI]')
    .option('--artifacts <uri>', 'artifact store, as the server uses it [env KILN_ARTIFACTS_URI]')
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent [env KILN_LOG_LEVEL]')
    .option('--allowed-hosts <names>', 'comma-separated Host names to answer besides loopback ones [env KILN_ALLOWED_HOSTS]')
    .option('--auth <mode>', 'on: inference needs a token with the infer scope; none: loopback only [env KILN_AUTH]')
    .option('--insecure-no-auth', 'allow --auth none on an address that is not loopback')
    .addHelpText('after', '\nRun any number behind a load balancer; see docs/serving.md (health: /v2/health/ready).')
    .action(async (flags: Record<string, string | boolean | undefined>) => {
      const { runServer } = await import('../cli/server.js');
      await runServer(flags, 'serving');
    });
}
