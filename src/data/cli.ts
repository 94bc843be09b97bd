/** `kiln data ...`: add, list, versions, get, download, diff, schema, validate, delete. */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { clientFrom, clientOptions, type ClientFlags } from '../cli/client.js';
import { formatBytes, formatTime, printJson, printTable } from '../cli/output.js';
import type { ColumnProfile, DatasetVersion, DatasetVersionDetail } from './schemas.js';
import { parseDatasetRef } from './refs.js';

/** A usage error: commander reports it and the CLI exits 2. */
function usage(cmd: Command, message: string): never {
  cmd.error(`error: ${message}`, { exitCode: 2, code: 'kiln.usage' });
}

function checkRef(cmd: Command, ref: string, requireVersion = false): string {
  try {
    parseDatasetRef(ref, { requireVersion });
    return ref;
  } catch (e) {
    usage(cmd, (e as Error).message);
  }
}

const round = (v: unknown, d = 4) => (typeof v === 'number' ? String(Math.round(v * 10 ** d) / 10 ** d) : v === null || v === undefined ? '' : String(v));
const pct = (part: number, total: number) => (total > 0 ? `${(Math.round((part / total) * 1000) / 10).toFixed(1)}%` : '');

function columnRow(c: ColumnProfile) {
  const top = (c.top ?? []).slice(0, 3).map((t) => `${t.value} (${t.count})`).join(', ');
  return [c.name, c.type, pct(c.missing, c.count + c.missing), `${c.distinct_exact ? '' : '~'}${c.distinct}`, round(c.min), round(c.max), round(c.mean), top];
}

/** A version without its schema and profile (what `data add --json` prints). */
function summary(v: DatasetVersionDetail): DatasetVersion {
  const { schema: _schema, profile: _profile, ...rest } = v;
  return rest;
}

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('Version, profile, validate and compare datasets');

  clientOptions(data.command('add').description('Add a version of a dataset from a file or folder (CSV, TSV, JSON lines, JSON array, Parquet)').argument('<path>', 'a data file, or a folder of parts'))
    .requiredOption('--name <name>', 'dataset name (created with its first version)')
    .option('--description <text>', 'description of this version')
    .option('--source <text>', 'where the data came from (default: the absolute path)')
    .action(async (path: string, flags: ClientFlags & { name: string; description?: string; source?: string }, cmd: Command) => {
      if (!existsSync(path)) usage(cmd, `${path} does not exist`);
      const r = await clientFrom(flags).data.add(path, { name: flags.name, description: flags.description, source: flags.source });
      if (flags.json) return printJson({ created: r.created, uploaded_blobs: r.uploadedBlobs, uploaded_bytes: r.uploadedBytes, version: summary(r.version) });
      const v = r.version;
      const what = r.created ? 'Created' : 'Unchanged: the content is already';
      process.stdout.write(`${what} ${v.name}@v${v.version}: ${v.rows} rows × ${v.profile.columns.length} columns, ${v.files.length} file${v.files.length === 1 ? '' : 's'}, ${formatBytes(v.bytes)} (${formatBytes(r.uploadedBytes)} uploaded)\n  digest sha256:${v.digest}\n`);
    });

  clientOptions(data.command('list').description('List datasets'))
    .option('--name-like <pattern>', "SQL LIKE pattern on the name, e.g. 'weather%'")
    .option('--max-results <n>', 'page size', (v) => Number(v), 100)
    .option('--page-token <token>', 'continue from a previous page')
    .action(async (flags: ClientFlags & { nameLike?: string; maxResults: number; pageToken?: string }, cmd: Command) => {
      if (!Number.isInteger(flags.maxResults) || flags.maxResults < 1 || flags.maxResults > 1000) usage(cmd, '--max-results must be an integer between 1 and 1000');
      const page = await clientFrom(flags).data.list({ nameLike: flags.nameLike, maxResults: flags.maxResults, pageToken: flags.pageToken });
      if (flags.json) return printJson({ datasets: page.items, next_page_token: page.nextPageToken });
      printTable(['NAME', 'LATEST', 'VERSIONS', 'UPDATED', 'DESCRIPTION'], page.items.map((d) => [d.name, d.latest_version === null ? '' : `v${d.latest_version}`, d.version_count, formatTime(d.last_update_time), d.description]), { whole: [0] });
      if (page.nextPageToken) process.stdout.write(`More datasets: --page-token ${page.nextPageToken}\n`);
    });

  clientOptions(data.command('versions').description('List the versions of a dataset, newest first').argument('<name>'))
    .option('--max-results <n>', 'page size', (v) => Number(v), 100)
    .option('--page-token <token>', 'continue from a previous page')
    .action(async (name: string, flags: ClientFlags & { maxResults: number; pageToken?: string }) => {
      const page = await clientFrom(flags).data.versions(name, { maxResults: flags.maxResults, pageToken: flags.pageToken });
      if (flags.json) return printJson({ versions: page.items, next_page_token: page.nextPageToken });
      printTable(['VERSION', 'ROWS', 'FILES', 'SIZE', 'FORMAT', 'DIGEST', 'CREATED', 'DESCRIPTION'], page.items.map((v) => [`v${v.version}`, v.rows, v.files.length, formatBytes(v.bytes), v.format, v.digest.slice(0, 12), formatTime(v.creation_time), v.description]));
      if (page.nextPageToken) process.stdout.write(`More versions: --page-token ${page.nextPageToken}\n`);
    });

  clientOptions(data.command('get').description('Show a version and the statistics of its columns').argument('<ref>', 'NAME@vN, NAME@latest or NAME (latest)')).action(async (ref: string, flags: ClientFlags, cmd: Command) => {
    const v = await clientFrom(flags).data.get(checkRef(cmd, ref));
    if (flags.json) return printJson(v);
    process.stdout.write(`${v.name}@v${v.version}  ${v.rows} rows × ${v.profile.columns.length} columns  ${v.format}  ${v.files.length} file${v.files.length === 1 ? '' : 's'}, ${formatBytes(v.bytes)}  created ${formatTime(v.creation_time)}\ndigest sha256:${v.digest}\n${v.description ? v.description + '\n' : ''}\n`);
    printTable(['COLUMN', 'TYPE', 'MISSING', 'DISTINCT', 'MIN', 'MAX', 'MEAN', 'TOP'], v.profile.columns.map(columnRow));
  });

  clientOptions(data.command('download').description('Download the files of a version').argument('<ref>', 'NAME@vN or NAME@latest'))
    .option('--output <dir>', 'target folder (default ./NAME-vN)')
    .action(async (ref: string, flags: ClientFlags & { output?: string }, cmd: Command) => {
      const client = clientFrom(flags).data;
      const v = await client.get(checkRef(cmd, ref));
      const files = await client.download(`${v.name}@v${v.version}`, flags.output ?? `${v.name}-v${v.version}`);
      if (flags.json) return printJson({ ref: `${v.name}@v${v.version}`, files });
      process.stdout.write(`Downloaded ${files.length} file${files.length === 1 ? '' : 's'} of ${v.name}@v${v.version} (${formatBytes(v.bytes)}):\n${files.map((f) => `  ${f}\n`).join('')}`);
    });

  clientOptions(data.command('diff').description('Compare two versions: rows, columns added/removed/retyped, statistics, drift').argument('<a>', 'e.g. weather@v1').argument('<b>', 'e.g. weather@v2')).action(async (a: string, b: string, flags: ClientFlags, cmd: Command) => {
    const d = await clientFrom(flags).data.diff(checkRef(cmd, a), checkRef(cmd, b));
    if (flags.json) return printJson(d);
    process.stdout.write(`${d.a.name}@v${d.a.version} → ${d.b.name}@v${d.b.version}: rows ${d.rows.a} → ${d.rows.b} (${(d.rows.delta ?? 0) >= 0 ? '+' : ''}${d.rows.delta})\n`);
    if (d.added_columns.length) process.stdout.write(`added columns: ${d.added_columns.join(', ')}\n`);
    if (d.removed_columns.length) process.stdout.write(`removed columns: ${d.removed_columns.join(', ')}\n`);
    process.stdout.write('\n');
    printTable(
      ['COLUMN', 'STATUS', 'TYPE', 'MISSING', 'MEAN', 'JS DIVERGENCE'],
      d.columns.map((c) => [
        c.name,
        c.status,
        c.type_changed ? `${c.type_a} → ${c.type_b}` : (c.type_b ?? c.type_a),
        c.missing_rate ? `${pct(c.missing_rate.a ?? 0, 1)} → ${pct(c.missing_rate.b ?? 0, 1)}` : '',
        c.mean ? `${round(c.mean.a)} → ${round(c.mean.b)}` : '',
        round(c.js_divergence),
      ]),
    );
  });

  clientOptions(data.command('schema').description('Print (or save) the inferred schema of a version, to edit and validate against').argument('<ref>', 'NAME@vN or NAME@latest'))
    .option('--output <file>', 'write the schema JSON to this file')
    .action(async (ref: string, flags: ClientFlags & { output?: string }, cmd: Command) => {
      const schema = await clientFrom(flags).data.schema(checkRef(cmd, ref));
      if (flags.output) {
        await writeFile(flags.output, JSON.stringify(schema, null, 2) + '\n');
        if (flags.json) printJson({ output: flags.output });
        else process.stdout.write(`Wrote the schema of ${ref} to ${flags.output}\n`);
      } else printJson(schema);
    });

  clientOptions(
    data
      .command('validate')
      .description('Validate a version against a schema; exits 1 when an anomaly of severity ERROR is found (0 when clean)')
      .argument('<ref>', 'the version to check, NAME@vN'),
  )
    .requiredOption('--schema <ref-or-file>', 'NAME@vN (that version\'s inferred schema) or a schema JSON file')
    .option('--baseline <ref>', 'version to compare distributions and missing rates against (default: the --schema version)')
    .option('--threshold <js>', 'Jensen–Shannon divergence above which a column has drifted (0..1)', (v) => Number(v), 0.1)
    .action(async (ref: string, flags: ClientFlags & { schema: string; baseline?: string; threshold: number }, cmd: Command) => {
      checkRef(cmd, ref);
      if (!(flags.threshold >= 0 && flags.threshold <= 1)) usage(cmd, '--threshold must be a number between 0 and 1');
      if (flags.baseline) checkRef(cmd, flags.baseline);
      let input: { schema?: unknown; schemaRef?: string; schemaLabel?: string };
      if (/\.json$/i.test(flags.schema) || existsSync(flags.schema)) {
        let text: string;
        try {
          text = await readFile(flags.schema, 'utf8');
        } catch (e) {
          usage(cmd, `cannot read schema file ${flags.schema}: ${(e as Error).message}`);
        }
        try {
          input = { schema: JSON.parse(text), schemaLabel: flags.schema };
        } catch (e) {
          usage(cmd, `schema file ${flags.schema} is not valid JSON: ${(e as Error).message}`);
        }
      } else input = { schemaRef: checkRef(cmd, flags.schema) };
      const r = await clientFrom(flags).data.validate(ref, { ...input, baseline: flags.baseline, jsThreshold: flags.threshold });
      if (flags.json) printJson(r);
      else {
        printTable(['SEVERITY', 'ANOMALY', 'COLUMN', 'MESSAGE'], r.anomalies.map((a) => [a.severity, a.type, a.column, a.message]), { whole: [2] });
        process.stdout.write(`${r.name}@v${r.version} against ${r.schema_ref}${r.baseline ? ` (baseline ${r.baseline})` : ''}: ${r.ok ? 'PASSED' : 'FAILED'}, ${r.errors} error${r.errors === 1 ? '' : 's'}, ${r.warnings} warning${r.warnings === 1 ? '' : 's'}\n`);
      }
      if (!r.ok) throw new Error(`${r.name}@v${r.version} failed validation (${r.errors} error${r.errors === 1 ? '' : 's'})`);
    });

  clientOptions(data.command('delete').description('Delete a dataset with all its versions and reports').argument('<name>')).action(async (name: string, flags: ClientFlags) => {
    await clientFrom(flags).data.deleteDataset(name);
    if (flags.json) printJson({ name, deleted: true });
    else process.stdout.write(`Deleted dataset '${name}'\n`);
  });
}
