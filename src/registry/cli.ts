import { createWriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { clientFrom, clientOptions, type ClientFlags } from '../cli/client.js';
import { CliExit } from '../cli/exit.js';
import { formatBytes, formatTime, printJson, printTable } from '../cli/output.js';
import type { KilnClient } from '@kiln-mlops/sdk/client';
import type { Gate, ModelVersion, PromotionOutcome } from './schemas.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

function parseTags(list: string[] | undefined): Record<string, string> {
  return Object.fromEntries(
    (list ?? []).map((kv) => {
      const i = kv.indexOf('=');
      if (i <= 0) throw new Error(`Invalid tag '${kv}': use KEY=VALUE`);
      return [kv.slice(0, i), kv.slice(i + 1)];
    }),
  );
}

/** A version reference: NAME VERSION, NAME ALIAS, NAME latest, NAME@ALIAS, models:/NAME/3, models:/NAME@alias (NAME alone: the latest). */
async function resolveRef(client: KilnClient, ref: string, version?: string): Promise<ModelVersion> {
  if (version !== undefined) {
    if (/^\d+$/.test(version)) return client.registry.getVersion(ref, version);
    return client.registry.resolve(version === 'latest' ? `models:/${ref}/latest` : `models:/${ref}@${version}`);
  }
  const uri = ref.startsWith('models:/') ? ref : ref.includes('@') ? `models:/${ref}` : `models:/${ref}/latest`;
  return client.registry.resolve(uri);
}

const REF_HELP = 'NAME VERSION, NAME ALIAS, NAME@ALIAS, models:/NAME/3 or models:/NAME@alias (default: the latest version)';
const MODEL_ARG_HELP = 'NAME, NAME@ALIAS, models:/NAME/3 or models:/NAME@alias (NAME alone, without a version: the latest)';

function printVersions(list: readonly ModelVersion[]): void {
  printTable(
    ['VERSION', 'STATUS', 'SERVABLE', 'STAGE', 'ALIASES', 'RUN', 'CREATED'],
    list.map((v) => [v.version, v.status, v.servable ? 'yes' : 'no', v.stage, v.aliases.join(','), v.run_id ?? '', formatTime(v.creation_time)]),
    { whole: [5] },
  );
}

/** One line per gate, never truncated: the message is why a promotion failed. */
function printGates(gates: readonly Gate[]): void {
  const width = Math.max(...gates.map((g) => g.gate.length));
  for (const g of gates) process.stdout.write(`${g.passed ? 'PASS' : 'FAIL'}  ${g.gate.padEnd(width)}  ${g.message}\n`);
}

function printOutcome(o: PromotionOutcome): void {
  printGates(o.gates);
  process.stdout.write(`\n${o.status}${o.dry_run ? ' (dry run)' : ''}: ${o.message}${o.request_id !== null ? ` [request ${o.request_id}]` : ''}\n`);
}

export function registerModelCommands(program: Command): void {
  const models = program.command('models').description('Registered models: versions, aliases, promotion gates, downloads');

  clientOptions(models.command('list').description('List registered models'))
    .option('--filter <filter>', "e.g. \"name LIKE 'fraud%'\" or \"tags.team = 'ml'\"")
    .option('--order-by <clause...>', "e.g. 'name ASC' 'last_updated_timestamp DESC'")
    .option('--max-results <n>', 'page size', (v) => Number(v), 100)
    .option('--page-token <token>', 'continue from a previous page')
    .action(async (flags: ClientFlags & { filter?: string; orderBy?: string[]; maxResults: number; pageToken?: string }) => {
      const page = await clientFrom(flags).registry.searchModels({ filter: flags.filter, orderBy: flags.orderBy, maxResults: flags.maxResults, pageToken: flags.pageToken });
      if (flags.json) return printJson({ models: page.items, next_page_token: page.nextPageToken });
      printTable(
        ['NAME', 'LATEST', 'ALIASES', 'UPDATED', 'DESCRIPTION'],
        page.items.map((m) => [
          m.name,
          m.latest_versions.reduce((mx, v) => Math.max(mx, v.version), 0) || '',
          aliasList(m.aliases),
          formatTime(m.last_update_time),
          (m.description ?? '').split('\n')[0]!,
        ]),
        { whole: [0] },
      );
      if (page.nextPageToken) process.stdout.write(`More models: --page-token ${page.nextPageToken}\n`);
    });

  clientOptions(models.command('create').description('Register a model name').argument('<name>'))
    .option('--description <text>')
    .option('--tag <key=value>', 'a tag (repeatable)', collect)
    .action(async (name: string, flags: ClientFlags & { description?: string; tag?: string[] }) => {
      const m = await clientFrom(flags).registry.createModel(name, { description: flags.description, tags: parseTags(flags.tag) });
      if (flags.json) printJson(m);
      else process.stdout.write(`Created registered model ${m.name}\n`);
    });

  clientOptions(models.command('get').description('Show a registered model with its aliases, policies and latest versions').argument('<name>')).action(async (name: string, flags: ClientFlags) => {
    const client = clientFrom(flags);
    const m = await client.registry.getModel(name);
    if (flags.json) return printJson(m);
    printTable(['FIELD', 'VALUE'], [
      ['name', m.name],
      ['description', m.description ?? ''],
      ['created', formatTime(m.creation_time)],
      ['updated', formatTime(m.last_update_time)],
      ['aliases', aliasList(m.aliases)],
      ['tags', Object.entries(m.tags).map(([k, v]) => `${k}=${v}`).join(' ')],
    ], { whole: [1] });
    const policies = await client.registry.listPolicies(name);
    if (policies.length) {
      process.stdout.write('\nPromotion policies\n');
      printTable(['ALIAS', 'RULES', 'DATA VALIDATION', 'APPROVAL'], policies.map((p) => [p.alias, p.policy.rules.join(' AND '), p.policy.require_data_validation ? 'required' : '', p.policy.require_approval ? 'required' : '']));
    }
    process.stdout.write('\nLatest versions\n');
    printVersions(m.latest_versions);
  });

  clientOptions(models.command('versions').description("List a model's versions, newest first").argument('<name>'))
    .option('--filter <filter>', "e.g. \"status = 'READY'\" or \"tags.validated = 'true'\"")
    .option('--max-results <n>', 'page size', (v) => Number(v), 100)
    .action(async (name: string, flags: ClientFlags & { filter?: string; maxResults: number }) => {
      const page = await clientFrom(flags).registry.listVersions(name, { filter: flags.filter, maxResults: flags.maxResults });
      if (flags.json) return printJson({ versions: page.items, next_page_token: page.nextPageToken });
      printVersions(page.items);
    });

  clientOptions(
    models
      .command('register')
      .description('Register a new version from runs:/<run>/<path>, models:/..., mlflow-artifacts:/... or another URI; waits for inspection')
      .argument('<name>')
      .argument('<source>'),
  )
    .option('--run-id <id>', 'the run that produced it')
    .option('--description <text>')
    .option('--tag <key=value>', 'a tag (repeatable)', collect)
    .option('--no-wait', 'return while the version is still PENDING_REGISTRATION')
    .action(async (name: string, source: string, flags: ClientFlags & { runId?: string; description?: string; tag?: string[]; wait: boolean }) => {
      const client = clientFrom(flags);
      await client.registry.ensureModel(name);
      const v = await client.registry.createVersion(name, source, { runId: flags.runId, description: flags.description, tags: parseTags(flags.tag), wait: flags.wait });
      if (flags.json) printJson(v);
      else process.stdout.write(`Registered ${name} version ${v.version} (${v.status}${v.servable ? ', servable' : ''})\n`);
    });

  const alias = models.command('alias').description('Point aliases at versions');
  clientOptions(alias.command('set').description('Point an alias at a version (aliases with a promotion policy move only with `promote`)').argument('<name>').argument('<alias>').argument('<version>'))
    .option('--reason <text>', 'recorded in the history')
    .action(async (name: string, a: string, version: string, flags: ClientFlags & { reason?: string }) => {
      const v = await clientFrom(flags).registry.setAlias(name, a, version, flags.reason);
      if (flags.json) printJson(v);
      else process.stdout.write(`${name}@${a} → version ${v.version}\n`);
    });
  clientOptions(alias.command('delete').description('Remove an alias').argument('<name>').argument('<alias>')).action(async (name: string, a: string, flags: ClientFlags) => {
    await clientFrom(flags).registry.deleteAlias(name, a);
    if (flags.json) printJson({ name, alias: a, deleted: true });
    else process.stdout.write(`Removed ${name}@${a}\n`);
  });

  clientOptions(
    models
      .command('download')
      .description(`Download a version's files: ${REF_HELP}`)
      .argument('<model>')
      .argument('[version]'),
  )
    .option('--dest <dir>', 'local folder to write into', '.')
    .action(async (ref: string, version: string | undefined, flags: ClientFlags & { dest: string }) => {
      const client = clientFrom(flags);
      const v = await resolveRef(client, ref, version);
      const dest = resolve(flags.dest);
      const written: string[] = [];
      const walk = async (path: string): Promise<void> => {
        for (const f of (await client.registry.listFiles(v.name, v.version, path)).files) {
          if (f.is_dir) {
            await walk(f.path);
            continue;
          }
          const target = resolve(join(dest, ...f.path.split('/')));
          if (!target.startsWith(dest + sep)) throw new Error(`Refusing to write outside ${dest}: ${f.path}`);
          await mkdir(dirname(target), { recursive: true });
          const res = await client.registry.openFile(v.name, v.version, f.path);
          await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(target));
          written.push(target);
        }
      };
      await walk('');
      if (flags.json) printJson({ name: v.name, version: v.version, files: written });
      else process.stdout.write(`Downloaded ${v.name} version ${v.version}: ${written.length} file(s) to ${dest}\n`);
    });

  clientOptions(models.command('promote').description("Move an alias to a version through the alias's promotion policy; prints each gate; exit 1 when rejected").argument('<name>').argument('<version>'))
    .requiredOption('--alias <alias>', 'e.g. production')
    .option('--reason <text>', 'recorded in the history')
    .option('--dry-run', 'evaluate the gates without moving anything')
    .action(async (name: string, version: string, flags: ClientFlags & { alias: string; reason?: string; dryRun?: boolean }) => {
      const o = await clientFrom(flags).registry.promote(name, version, flags.alias, { reason: flags.reason, dryRun: flags.dryRun });
      if (flags.json) printJson(o);
      else printOutcome(o);
      if (o.status === 'REJECTED') throw new CliExit(1);
    });
  clientOptions(models.command('approve').description('Approve a pending promotion (as a user other than the requester)').argument('<name>').argument('<request-id>'))
    .option('--reason <text>')
    .action(async (name: string, id: string, flags: ClientFlags & { reason?: string }) => {
      const o = await clientFrom(flags).registry.approve(name, requestId(id), flags.reason);
      if (flags.json) printJson(o);
      else printOutcome(o);
      if (o.status === 'REJECTED') throw new CliExit(1);
    });
  clientOptions(models.command('reject').description('Reject a pending promotion').argument('<name>').argument('<request-id>'))
    .requiredOption('--reason <text>')
    .action(async (name: string, id: string, flags: ClientFlags & { reason: string }) => {
      const r = await clientFrom(flags).registry.reject(name, requestId(id), flags.reason);
      if (flags.json) printJson(r);
      else process.stdout.write(`Rejected request ${r.id} (${name} version ${r.version} → ${r.alias})\n`);
    });
  clientOptions(models.command('promotions').description('Promotion requests, newest first').argument('<name>'))
    .option('--status <status>', 'PENDING_APPROVAL, PROMOTED or REJECTED')
    .action(async (name: string, flags: ClientFlags & { status?: 'PENDING_APPROVAL' | 'PROMOTED' | 'REJECTED' }) => {
      const list = await clientFrom(flags).registry.listPromotions(name, flags.status);
      if (flags.json) return printJson({ requests: list });
      printTable(['ID', 'VERSION', 'ALIAS', 'STATUS', 'REQUESTED BY', 'DECIDED BY', 'WHEN', 'REASON'], list.map((r) => [r.id, r.version, r.alias, r.status, r.requested_by, r.decided_by ?? '', formatTime(r.request_time), r.reason ?? '']), { whole: [0] });
    });

  const policy = models.command('policy').description('Promotion policies guarding aliases');
  clientOptions(policy.command('set').description('Set the policy of an alias, from --file or from --rule flags').argument('<name>').argument('<alias>'))
    .option('--file <policy.json>', '{"rules": [...], "require_data_validation": bool, "require_approval": bool}')
    .option('--rule <rule>', 'e.g. "metrics.val_accuracy >= champion - 0.005" (repeatable)', collect)
    .option('--require-data-validation', "the candidate run's training data must have a passing validation")
    .option('--require-approval', 'a different user must approve')
    .action(async (name: string, a: string, flags: ClientFlags & { file?: string; rule?: string[]; requireDataValidation?: boolean; requireApproval?: boolean }) => {
      let doc: Record<string, unknown>;
      if (flags.file) {
        try {
          doc = JSON.parse(await readFile(flags.file, 'utf8')) as Record<string, unknown>;
        } catch (e) {
          throw new Error(`Cannot read the policy from ${flags.file}: ${(e as Error).message}`);
        }
      } else doc = { rules: flags.rule ?? [], require_data_validation: flags.requireDataValidation === true, require_approval: flags.requireApproval === true };
      const p = await clientFrom(flags).registry.setPolicy(name, a, doc);
      if (flags.json) printJson(p);
      else process.stdout.write(`Policy of ${name}@${a}: ${p.rules.length} rule(s)${p.require_data_validation ? ', data validation required' : ''}${p.require_approval ? ', approval required' : ''}\n`);
    });
  clientOptions(policy.command('get').description('Show the policies of a model (or of one alias)').argument('<name>').argument('[alias]')).action(async (name: string, a: string | undefined, flags: ClientFlags) => {
    const client = clientFrom(flags);
    const list = a ? [{ alias: a, policy: await client.registry.getPolicy(name, a) }] : await client.registry.listPolicies(name);
    if (flags.json) return printJson({ policies: list });
    printTable(['ALIAS', 'RULES', 'DATA VALIDATION', 'APPROVAL'], list.map((p) => [p.alias, p.policy.rules.join(' AND '), p.policy.require_data_validation ? 'required' : '', p.policy.require_approval ? 'required' : '']));
  });
  clientOptions(policy.command('delete').description('Remove the policy of an alias').argument('<name>').argument('<alias>')).action(async (name: string, a: string, flags: ClientFlags) => {
    await clientFrom(flags).registry.deletePolicy(name, a);
    if (flags.json) printJson({ name, alias: a, deleted: true });
    else process.stdout.write(`Removed the policy of ${name}@${a}\n`);
  });

  clientOptions(models.command('history').description('Versions, stage changes, alias moves, approvals and rejections, oldest first').argument('<name>')).action(async (name: string, flags: ClientFlags) => {
    const events = await clientFrom(flags).registry.history(name);
    if (flags.json) return printJson({ events });
    printTable(['WHEN', 'EVENT', 'VERSION', 'ALIAS', 'BY', 'REASON'], events.map((e) => [formatTime(e.time), e.kind, e.version ?? '', e.alias ?? '', e.actor, e.reason ?? '']));
  });

  clientOptions(models.command('files').description("List a version's files").argument('<model>', MODEL_ARG_HELP).argument('[version]', 'a version number or an alias'))
    .option('--path <path>', 'folder inside the version', '')
    .action(async (ref: string, version: string | undefined, flags: ClientFlags & { path: string }) => {
      const client = clientFrom(flags);
      const v = await resolveRef(client, ref, version);
      const l = await client.registry.listFiles(v.name, v.version, flags.path);
      if (flags.json) return printJson(l);
      printTable(['PATH', 'TYPE', 'SIZE'], l.files.map((f) => [f.path + (f.is_dir ? '/' : ''), f.is_dir ? 'dir' : 'file', formatBytes(f.size)]), { whole: [0] });
    });
  registerReproduceCommand(models);
}

const aliasList = (aliases: Readonly<Record<string, number>>): string =>
  Object.entries(aliases)
    .map(([a, v]) => `${a}→v${v}`)
    .join(' ');

function requestId(s: string): number {
  const n = Number(s);
  if (!/^[1-9]\d*$/.test(s) || !Number.isSafeInteger(n)) throw new Error(`Invalid request id '${s}': a positive integer`);
  return n;
}

function registerReproduceCommand(models: Command): void {
  clientOptions(
    models
      .command('reproduce')
      .description('Print everything needed to reproduce a version: code commit and entry point, params, dataset versions, environment')
      .argument('<model>', MODEL_ARG_HELP)
      .argument('[version]', 'a version number or an alias'),
  ).action(
    async (ref: string, version: string | undefined, flags: ClientFlags) => {
      const client = clientFrom(flags);
      const v = await resolveRef(client, ref, version);
      const r = await client.registry.reproduce(v.name, v.version);
      if (flags.json) return printJson(r);
      const out = (s: string) => process.stdout.write(s);
      out(`${r.model.name} version ${r.model.version} (${r.model.status}) from ${r.model.source}\n\n`);
      out('Code\n');
      printTable(['FIELD', 'VALUE'], [
        ['run', r.run ? `${r.run.run_id} (${r.run.run_name}, experiment ${r.run.experiment_id}, by ${r.run.user_id})` : '—'],
        ['git commit', r.code.git_commit ?? '—'],
        ['repository', r.code.git_repo ?? '—'],
        ['branch', r.code.git_branch ?? '—'],
        ['entry point', r.code.entry_point ?? r.code.project_entry_point ?? '—'],
        ['source type', r.code.source_type ?? '—'],
      ], { whole: [1] });
      out('\nParams\n');
      printTable(['KEY', 'VALUE'], Object.entries(r.params), { whole: [1] });
      out('\nData\n');
      printTable(['DATASET', 'CONTEXT', 'DIGEST', 'KILN VERSION', 'SOURCE'], r.datasets.map((d) => [d.name, d.context ?? '', d.digest, d.kiln_version ? `${d.kiln_version.name}@v${d.kiln_version.version}` : '—', d.source]), { whole: [2, 4] });
      out('\nEnvironment\n');
      printTable(['FIELD', 'VALUE'], [
        ...Object.entries(r.environment.runtime),
        ['python', r.environment.python_version ?? '—'],
        ['requirements', r.environment.requirements ? r.environment.requirements.trim().split('\n').join(', ') : '—'],
      ], { whole: [1] });
      if (r.steps.length) out(`\nSteps\n${r.steps.map((s, i) => `  ${i + 1}. ${s}`).join('\n')}\n`);
      if (r.gaps.length) out(`\nGaps\n${r.gaps.map((g) => `  - ${g}`).join('\n')}\n`);
    },
  );
}
