import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { clientFrom, clientOptions, type ClientFlags } from '../cli/client.js';
import { formatTime, printJson, printTable } from '../cli/output.js';
import type { CreateMonitorBody, Monitor, Report } from '@kiln-mlops/sdk/contract/monitoring-schemas';

const collect = (v: string, prev: string[] = []) => [...prev, v];
const list = (v: string | undefined) => (v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean));
const fmt = (x: number | null | undefined, digits = 4) => (x === null || x === undefined ? '' : Number(x.toPrecision(digits)).toString());

function num(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new Error(`${flag} takes a number, got '${v}'`);
  return n;
}

function printMonitor(m: Monitor): void {
  process.stdout.write(`${m.name} (project ${m.project})${m.deployment ? `, deployment ${m.deployment}` : m.model ? `, model ${m.model}` : ''}\n`);
  if (m.description) process.stdout.write(`  ${m.description}\n`);
  process.stdout.write(`  reference: ${m.reference.source} (${m.reference.rows} rows); window ${m.window}${m.time_column ? ` by ${m.time_column}` : ' by arrival time'}\n`);
  process.stdout.write(`  features: ${m.features.map((f) => `${f.name} (${f.kind}${f.method ? `, ${f.method}` : ''})`).join(', ')}\n`);
  if (m.predictions.length) process.stdout.write(`  predictions: ${m.predictions.map((p) => p.name).join(', ')}${m.label ? `; label ${m.label}` : ''}${m.task ? `; ${m.task}` : ''}\n`);
  process.stdout.write(`  dataset drift when ${m.drift_share * 100}% of features drift; ${m.firing} alert(s) firing\n`);
  for (const r of m.rules) process.stdout.write(`  rule: ${r.id}\n`);
}

function printReport(r: Report): void {
  if (r.status === 'no_data') {
    process.stdout.write(`${r.monitor}: no data in ${r.from ?? 'the beginning'} .. ${r.to ?? 'now'}\n`);
    return;
  }
  process.stdout.write(`${r.monitor}: ${r.rows} rows in ${r.windows} window(s), compared with ${r.reference_rows} reference rows\n`);
  process.stdout.write(`drift share ${fmt(r.drift_share)} (${r.drifted_features} feature(s) drifted): ${r.dataset_drift ? 'DATASET DRIFT' : 'no dataset drift'}\n`);
  const rows = [...Object.entries(r.features), ...Object.entries(r.predictions).map(([n, d]) => [`${n} (prediction)`, d] as const)].map(([n, d]) => [
    n,
    d.method,
    fmt(d.statistic),
    d.drifted ? 'DRIFT' : '',
    fmt(d.psi),
    fmt(d.js),
    fmt(d.wasserstein),
    fmt(d.ks_pvalue),
    fmt(d.missing_rate, 3),
  ]);
  printTable(['COLUMN', 'METHOD', 'STATISTIC', 'DRIFT', 'PSI', 'JS', 'WASSERSTEIN', 'KS P', 'MISSING'], rows, { whole: [0] });
  if (r.performance) {
    const p = r.performance;
    process.stdout.write(`performance (${p.labeled} labeled, coverage ${fmt(p.label_coverage, 3)}): ${Object.entries(p.metrics).filter(([k, v]) => v !== null && k !== 'label_coverage').map(([k, v]) => `${k} ${fmt(v)}`).join(', ')}\n`);
  }
}

interface CreateFlags extends ClientFlags {
  reference?: string;
  deployment?: string;
  model?: string;
  window?: string;
  timeColumn?: string;
  features?: string;
  prediction?: string[];
  label?: string;
  score?: string;
  task?: string;
  positiveClass?: string;
  bins?: string;
  topK?: string;
  driftShare?: string;
  rule?: string[];
  project?: string;
  description?: string;
}

export function registerMonitoringCommands(program: Command): void {
  const mon = program.command('monitors').alias('monitor').description('Monitors: drift, data quality and realized performance of a deployment or an external model, with alerts');

  clientOptions(mon.command('list').description('List monitors'))
    .option('--project <name>', 'only this project')
    .action(async (flags: ClientFlags & { project?: string }) => {
      const page = await clientFrom(flags).monitors.list({ project: flags.project, maxResults: 1000 });
      if (flags.json) return printJson({ monitors: page.items });
      printTable(
        ['NAME', 'PROJECT', 'WATCHES', 'REFERENCE', 'WINDOW', 'FIRING', 'LAST RECORD'],
        page.items.map((m) => [m.name, m.project, m.deployment ? `deployment ${m.deployment}` : `model ${m.model ?? ''}`, m.reference.source, m.window, m.firing, m.last_record_time ? formatTime(m.last_record_time) : '']),
        { whole: [0] },
      );
    });

  clientOptions(mon.command('create').description('Create a monitor; its reference profile is computed now, once').argument('<name>'))
    .option('--reference <dataset@vN>', 'the dataset version the reference profile comes from (default for a deployment: its training data, through lineage)')
    .option('--deployment <name>', 'watch a Kiln deployment (every request counted)')
    .option('--model <name>', 'an external model (predictions logged with `kiln monitors log`)')
    .option('--window <w>', 'tumbling window: 5m, 1h, 1d, 7d (UTC-aligned) or "10000 rows" (default 1h)')
    .option('--time-column <col>', 'the column whose time places a row in its window (default: arrival time)')
    .option('--features <a,b,...>', "monitored features (default: the reference's numeric and categorical columns)")
    .option('--prediction <col>', 'a prediction output to watch (repeatable)', collect)
    .option('--label <col>', 'the label column (delayed labels, realized performance)')
    .option('--score <col>', 'the probability of the positive class (ROC AUC, log loss)')
    .option('--task <kind>', 'classification or regression (default: from the label)')
    .option('--positive-class <value>', 'binary classification: the positive class')
    .option('--bins <n>', 'numeric bins on reference quantiles (default 10)')
    .option('--top-k <n>', 'categories kept per categorical feature (default 20)')
    .option('--drift-share <f>', 'dataset drift when this share of features drifts (default 0.5)')
    .option('--rule <rule>', 'an alert rule, e.g. "drift_share > 0.5 for 2 windows" (repeatable)', collect)
    .option('--project <name>', 'the project (default: your default project)')
    .option('--description <text>', 'what the monitor is for')
    .action(async (name: string, f: CreateFlags) => {
      const body: CreateMonitorBody = {
        name,
        ...(f.reference !== undefined ? { reference: f.reference } : {}),
        ...(f.deployment !== undefined ? { deployment: f.deployment } : {}),
        ...(f.model !== undefined ? { model: f.model } : {}),
        ...(f.window !== undefined ? { window: f.window } : {}),
        ...(f.timeColumn !== undefined ? { time_column: f.timeColumn } : {}),
        ...(f.features !== undefined ? { features: list(f.features) } : {}),
        ...(f.prediction !== undefined ? { predictions: f.prediction } : {}),
        ...(f.label !== undefined ? { label: f.label } : {}),
        ...(f.score !== undefined ? { score: f.score } : {}),
        ...(f.task !== undefined ? { task: f.task as 'classification' } : {}),
        ...(f.positiveClass !== undefined ? { positive_class: f.positiveClass } : {}),
        ...(f.bins !== undefined ? { bins: num('--bins', f.bins) } : {}),
        ...(f.topK !== undefined ? { top_k: num('--top-k', f.topK) } : {}),
        ...(f.driftShare !== undefined ? { drift_share: num('--drift-share', f.driftShare) } : {}),
        ...(f.rule !== undefined ? { rules: f.rule } : {}),
        ...(f.project !== undefined ? { project: f.project } : {}),
        ...(f.description !== undefined ? { description: f.description } : {}),
      };
      const m = await clientFrom(f).monitors.create(body);
      if (f.json) return printJson({ monitor: m });
      printMonitor(m);
    });

  clientOptions(mon.command('get').description('Show a monitor').argument('<name>')).action(async (name: string, flags: ClientFlags) => {
    const m = await clientFrom(flags).monitors.get(name);
    if (flags.json) return printJson({ monitor: m });
    printMonitor(m);
  });

  clientOptions(mon.command('update').description("Change a monitor's rules, drift share or description").argument('<name>'))
    .option('--rule <rule>', 'an alert rule (repeatable; replaces the rules)', collect)
    .option('--no-rules', 'remove every rule')
    .option('--drift-share <f>', 'dataset drift threshold')
    .option('--description <text>', 'what the monitor is for')
    .action(async (name: string, f: ClientFlags & { rule?: string[]; rules?: boolean; driftShare?: string; description?: string }) => {
      const m = await clientFrom(f).monitors.update(name, {
        ...(f.rules === false ? { rules: [] } : f.rule !== undefined ? { rules: f.rule } : {}),
        ...(f.driftShare !== undefined ? { drift_share: num('--drift-share', f.driftShare) } : {}),
        ...(f.description !== undefined ? { description: f.description } : {}),
      });
      if (f.json) return printJson({ monitor: m });
      printMonitor(m);
    });

  clientOptions(mon.command('delete').description('Delete a monitor with its windows, predictions and alerts').argument('<name>')).action(async (name: string, flags: ClientFlags) => {
    await clientFrom(flags).monitors.delete(name);
    if (flags.json) return printJson({});
    process.stdout.write(`Deleted monitor ${name}\n`);
  });

  clientOptions(mon.command('log').description('Log predictions from a file (CSV, TSV, JSON lines, parquet): rows go to the windows their time column places them in').argument('<name>').argument('<file>'))
    .option('--format <f>', 'csv, tsv, jsonl or parquet (default: from the file name)')
    .action(async (name: string, file: string, flags: ClientFlags & { format?: string }) => {
      const r = await clientFrom(flags).monitors.logFile(name, file, flags.format as 'csv' | undefined);
      if (flags.json) return printJson(r);
      process.stdout.write(`Counted ${r.accepted} rows into ${r.windows} window(s); ${r.predictions_stored} kept for labels${r.invalid_values ? `; ${r.invalid_values} invalid values` : ''}${r.ignored_columns.length ? `; ignored columns ${r.ignored_columns.join(', ')}` : ''}\n`);
    });

  clientOptions(mon.command('labels').description('Send delayed labels from a CSV (request_id,label) or JSON file ([{request_id, label}])').argument('<name>').argument('<file>')).action(async (name: string, file: string, flags: ClientFlags) => {
    const text = await readFile(file, 'utf8');
    let labels: { request_id: string; label: string }[];
    if (/^\s*[[{]/.test(text)) {
      const v = JSON.parse(text) as unknown;
      labels = (Array.isArray(v) ? v : (v as { labels: unknown }).labels) as typeof labels;
    } else {
      const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
      const header = lines.shift()?.split(',').map((h) => h.trim()) ?? [];
      const ri = header.indexOf('request_id');
      const li = header.indexOf('label');
      if (ri < 0 || li < 0) throw new Error(`${file}: the header must name request_id and label`);
      labels = lines.map((l) => {
        const cells = l.split(',');
        return { request_id: cells[ri]!.trim(), label: cells[li]!.trim() };
      });
    }
    const r = await clientFrom(flags).monitors.labels(name, labels);
    if (flags.json) return printJson(r);
    process.stdout.write(`Joined ${r.joined} of ${r.received} labels (${r.unknown} for unknown request ids) over ${r.windows} window(s)\n`);
  });

  clientOptions(mon.command('report').description('One drift report merged over the windows in a range (counts add up)').argument('<name>'))
    .option('--from <date>', 'ISO date or time (default: the first window)')
    .option('--to <date>', 'ISO date or time; a date alone means the end of that day (default: now)')
    .action(async (name: string, flags: ClientFlags & { from?: string; to?: string }) => {
      const r = await clientFrom(flags).monitors.report(name, { from: flags.from, to: flags.to });
      if (flags.json) return printJson(r);
      printReport(r);
    });

  clientOptions(mon.command('windows').description('The windows: rows, drift share, drifted features, performance').argument('<name>'))
    .option('--from <date>', 'ISO date or time')
    .option('--to <date>', 'ISO date or time')
    .option('--limit <n>', 'the latest N windows (default 500)')
    .option('--previous', 'compare each window with the one before it instead of the reference')
    .action(async (name: string, flags: ClientFlags & { from?: string; to?: string; limit?: string; previous?: boolean }) => {
      const list = await clientFrom(flags).monitors.windows(name, { from: flags.from, to: flags.to, limit: num('--limit', flags.limit), compare: flags.previous ? 'previous' : 'reference' });
      if (flags.json) return printJson({ windows: list });
      printTable(
        ['START', 'ROWS', 'DRIFT SHARE', 'DRIFTED', 'MISSING', 'LABELED', 'ACCURACY/MAE'],
        list.map((w) => [
          w.start > 1e11 ? new Date(w.start).toISOString() : String(w.start),
          w.rows,
          fmt(w.drift_share),
          Object.entries(w.columns).filter(([, c]) => c.drifted).map(([n]) => n).join(' '),
          fmt(w.missing_rate, 3),
          w.performance ? w.performance.labeled : '',
          w.performance ? fmt(w.performance.metrics.accuracy ?? w.performance.metrics.mae) : '',
        ]),
        { whole: [3] },
      );
    });

  clientOptions(mon.command('alerts').description('The alert history, newest first').argument('<name>')).action(async (name: string, flags: ClientFlags) => {
    const alerts = await clientFrom(flags).monitors.alerts(name);
    if (flags.json) return printJson({ alerts });
    printTable(['ID', 'STATE', 'RULE', 'VALUE', 'FIRED', 'RESOLVED'], alerts.map((a) => [a.id, a.state, a.rule, fmt(a.value), formatTime(a.fired_at), a.resolved_at ? formatTime(a.resolved_at) : '']), { whole: [2] });
  });
}
