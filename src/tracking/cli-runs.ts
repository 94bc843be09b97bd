import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { clientFrom, clientOptions, type ClientFlags } from '../cli/client.js';
import { formatBytes, formatDuration, formatTime, printJson, printTable } from '../cli/output.js';
import { resolveExperiment } from './cli-experiments.js';
import type { KilnClient } from '@kiln-mlops/sdk/client';
import { runJson } from './json.js';

const VIEW = ['active', 'deleted', 'all'] as const;
const viewType = (v: string | undefined) => (v === 'deleted' ? 'DELETED_ONLY' : v === 'all' ? 'ALL' : 'ACTIVE_ONLY');

export function registerRunCommands(program: Command): void {
  const runs = program.command('runs').description('Search, inspect and manage runs');

  clientOptions(runs.command('search').description('Search runs with the filter grammar (see docs/search.md)'))
    .requiredOption('--experiment <id-or-name...>', 'one or more experiments to search')
    .option('--filter <filter>', "e.g. \"metrics.acc > 0.9 AND params.lr = '0.01'\"")
    .option('--order-by <clause...>', "e.g. 'metrics.acc DESC' 'start_time ASC'")
    .option('--max-results <n>', 'page size', (v) => Number(v), 100)
    .option('--page-token <token>', 'continue from a previous page')
    .option('--view <view>', `which runs: ${VIEW.join('|')}`, 'active')
    .action(async (flags: ClientFlags & { experiment: string[]; filter?: string; orderBy?: string[]; maxResults: number; pageToken?: string; view?: string }) => {
      if (flags.view && !(VIEW as readonly string[]).includes(flags.view)) throw new Error(`--view must be one of ${VIEW.join(', ')}`);
      if (!Number.isInteger(flags.maxResults) || flags.maxResults < 1) throw new Error('--max-results must be a positive integer');
      const client = clientFrom(flags);
      const ids = await Promise.all(flags.experiment.map(async (e) => (await resolveExperiment(client, e)).experimentId));
      const page = await client.searchRuns({
        experimentIds: ids,
        filter: flags.filter,
        orderBy: flags.orderBy,
        maxResults: flags.maxResults,
        pageToken: flags.pageToken,
        viewType: viewType(flags.view),
      });
      if (flags.json) {
        printJson({ runs: page.items.map(runJson), next_page_token: page.nextPageToken });
        return;
      }
      const metricKeys = [...new Set(page.items.flatMap((r) => r.data.metrics.map((m) => m.key)))].sort().slice(0, 4);
      const paramKeys = [...new Set(page.items.flatMap((r) => r.data.params.map((p) => p.key)))].sort().slice(0, 3);
      printTable(
        ['RUN ID', 'NAME', 'STATUS', 'STARTED', 'DURATION', ...metricKeys.map((k) => `metrics.${k}`), ...paramKeys.map((k) => `params.${k}`)],
        page.items.map((r) => [
          r.info.runId,
          r.info.runName,
          r.info.status,
          formatTime(r.info.startTime),
          formatDuration(r.info.startTime, r.info.endTime),
          ...metricKeys.map((k) => r.data.metrics.find((m) => m.key === k)?.value),
          ...paramKeys.map((k) => r.data.params.find((p) => p.key === k)?.value),
        ]),
        { whole: [0] },
      );
      if (page.nextPageToken) process.stdout.write(`More runs: --page-token ${page.nextPageToken}\n`);
    });

  clientOptions(runs.command('get').description('Show one run with its params, metrics and tags').argument('<run-id>')).action(async (runId: string, flags: ClientFlags) => {
    const r = await clientFrom(flags).getRun(runId);
    if (flags.json) {
      printJson(runJson(r));
      return;
    }
    printTable(['FIELD', 'VALUE'], [
      ['run_id', r.info.runId],
      ['run_name', r.info.runName],
      ['experiment_id', r.info.experimentId],
      ['status', r.info.status],
      ['user', r.info.userId],
      ['started', formatTime(r.info.startTime)],
      ['ended', formatTime(r.info.endTime)],
      ['lifecycle_stage', r.info.lifecycleStage],
      ['artifact_uri', r.info.artifactUri],
    ], { whole: [1] });
    for (const [title, rows] of [
      ['Params', r.data.params.map((p) => [p.key, p.value])],
      ['Metrics (latest)', r.data.metrics.map((m) => [m.key, m.value, m.step])],
      ['Tags', r.data.tags.map((t) => [t.key, t.value])],
    ] as const) {
      process.stdout.write(`\n${title}\n`);
      printTable(title.startsWith('Metrics') ? ['KEY', 'VALUE', 'STEP'] : ['KEY', 'VALUE'], rows, { whole: [1] });
    }
  });

  clientOptions(runs.command('delete').description('Delete a run (soft)').argument('<run-id>')).action(async (runId: string, flags: ClientFlags) => {
    await clientFrom(flags).deleteRun(runId);
    if (flags.json) printJson({ run_id: runId, lifecycle_stage: 'deleted' });
    else process.stdout.write(`Deleted run ${runId}\n`);
  });
  clientOptions(runs.command('restore').description('Restore a deleted run').argument('<run-id>')).action(async (runId: string, flags: ClientFlags) => {
    await clientFrom(flags).restoreRun(runId);
    if (flags.json) printJson({ run_id: runId, lifecycle_stage: 'active' });
    else process.stdout.write(`Restored run ${runId}\n`);
  });

  const artifacts = runs.command('artifacts').description("List and download a run's artifacts");
  clientOptions(artifacts.command('list').description('List a folder of artifacts').argument('<run-id>').option('--path <path>', 'folder inside the run', '')).action(
    async (runId: string, flags: ClientFlags & { path: string }) => {
      const l = await clientFrom(flags).listArtifacts(runId, flags.path);
      if (flags.json) printJson({ root_uri: l.rootUri, files: l.files.map((f) => ({ path: f.path, is_dir: f.isDir, size: f.size })) });
      else printTable(['PATH', 'TYPE', 'SIZE'], l.files.map((f) => [f.path + (f.isDir ? '/' : ''), f.isDir ? 'dir' : 'file', formatBytes(f.size)]), { whole: [0] });
    },
  );
  clientOptions(
    artifacts
      .command('download')
      .description('Download a file or a whole folder (default: every artifact)')
      .argument('<run-id>')
      .option('--path <path>', 'file or folder inside the run (default: all)', '')
      .option('--dest <dir>', 'local folder to write into', '.'),
  ).action(async (runId: string, flags: ClientFlags & { path: string; dest: string }) => {
    const client = clientFrom(flags);
    const written = await downloadTree(client, runId, flags.path.replace(/^\/+|\/+$/g, ''), resolve(flags.dest));
    if (flags.json) printJson({ files: written });
    else process.stdout.write(`Downloaded ${written.length} file(s) to ${resolve(flags.dest)}\n`);
  });
}

async function downloadTree(client: KilnClient, runId: string, path: string, dest: string): Promise<string[]> {
  const listing = path === '' ? { files: [{ path: '', isDir: true }] } : undefined;
  const entries = listing?.files ?? (await entryFor(client, runId, path));
  const out: string[] = [];
  for (const e of entries) {
    if (e.isDir) {
      const children = await client.listArtifacts(runId, e.path);
      for (const c of children.files) out.push(...(await downloadTree(client, runId, c.path, dest)));
    } else {
      const target = resolve(join(dest, ...e.path.split('/')));
      if (!target.startsWith(dest + sep) && target !== dest) throw new Error(`Refusing to write outside ${dest}: ${e.path}`);
      await mkdir(dirname(target), { recursive: true });
      const res = await client.openArtifact(runId, e.path);
      await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(target));
      out.push(target);
    }
  }
  return out;
}

async function entryFor(client: KilnClient, runId: string, path: string): Promise<{ path: string; isDir: boolean }[]> {
  const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
  const siblings = await client.listArtifacts(runId, parent);
  const hit = siblings.files.find((f) => f.path === path);
  if (!hit) throw new Error(`No artifact '${path}' in run ${runId}`);
  return [hit];
}
