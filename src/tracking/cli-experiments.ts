import type { Command } from 'commander';
import { clientFrom, clientOptions, type ClientFlags } from '../cli/client.js';
import { formatTime, printJson, printTable } from '../cli/output.js';
import type { Experiment } from './types.js';
import { experimentJson } from './json.js';
import type { KilnClient } from '@kiln-mlops/sdk/client';

const VIEW = ['active', 'deleted', 'all'] as const;
const viewType = (v: string | undefined) => (v === 'deleted' ? 'DELETED_ONLY' : v === 'all' ? 'ALL' : 'ACTIVE_ONLY');

/** Resolves an experiment given by id or by name. */
export async function resolveExperiment(client: KilnClient, idOrName: string): Promise<Experiment> {
  if (/^\d+$/.test(idOrName)) {
    try {
      return await client.getExperiment(idOrName);
    } catch (e) {
      if ((e as { status?: number }).status !== 404) throw e;
    }
  }
  return client.getExperimentByName(idOrName);
}

function parseTags(list: string[] | undefined): { key: string; value: string }[] {
  return (list ?? []).map((kv) => {
    const i = kv.indexOf('=');
    if (i <= 0) throw new Error(`Invalid tag '${kv}': use KEY=VALUE`);
    return { key: kv.slice(0, i), value: kv.slice(i + 1) };
  });
}

export function registerExperimentCommands(program: Command): void {
  const exp = program.command('experiments').description('Create, list and manage experiments');

  clientOptions(exp.command('create').description('Create an experiment').argument('<name>', 'unique experiment name'))
    .option('--artifact-location <uri>', 'where its artifacts go (default: the server artifact store)')
    .option('--tag <key=value...>', 'experiment tags')
    .action(async (name: string, flags: ClientFlags & { artifactLocation?: string; tag?: string[] }) => {
      const client = clientFrom(flags);
      const id = await client.createExperiment({ name, artifactLocation: flags.artifactLocation, tags: parseTags(flags.tag) });
      if (flags.json) printJson({ experiment_id: id });
      else process.stdout.write(`Created experiment '${name}' with id ${id}\n`);
    });

  clientOptions(exp.command('list').description('List experiments'))
    .option('--view <view>', `which experiments: ${VIEW.join('|')}`, 'active')
    .option('--filter <filter>', "filter, e.g. \"name LIKE 'fraud%'\" or \"tags.team = 'ml'\"")
    .option('--order-by <clause...>', "ordering, e.g. 'name ASC' 'creation_time DESC'")
    .option('--max-results <n>', 'page size', (v) => Number(v), 1000)
    .action(async (flags: ClientFlags & { view?: string; filter?: string; orderBy?: string[]; maxResults: number }) => {
      if (flags.view && !(VIEW as readonly string[]).includes(flags.view)) throw new Error(`--view must be one of ${VIEW.join(', ')}`);
      const page = await clientFrom(flags).searchExperiments({ viewType: viewType(flags.view), filter: flags.filter, orderBy: flags.orderBy, maxResults: flags.maxResults });
      if (flags.json) printJson({ experiments: page.items.map((e) => experimentJson(e)), next_page_token: page.nextPageToken });
      else printTable(['ID', 'NAME', 'STAGE', 'CREATED', 'ARTIFACT LOCATION'], page.items.map((e) => [e.experimentId, e.name, e.lifecycleStage, formatTime(e.creationTime), e.artifactLocation]), { whole: [0, 4] });
    });

  clientOptions(exp.command('get').description('Show one experiment').argument('<id-or-name>', 'experiment id or name')).action(async (idOrName: string, flags: ClientFlags) => {
    const e = await resolveExperiment(clientFrom(flags), idOrName);
    if (flags.json) printJson(experimentJson(e));
    else {
      printTable(['FIELD', 'VALUE'], [
        ['experiment_id', e.experimentId],
        ['name', e.name],
        ['lifecycle_stage', e.lifecycleStage],
        ['artifact_location', e.artifactLocation],
        ['created', formatTime(e.creationTime)],
        ['last_updated', formatTime(e.lastUpdateTime)],
        ...e.tags.map((t) => [`tag ${t.key}`, t.value]),
      ], { whole: [1] });
    }
  });

  clientOptions(exp.command('rename').description('Rename an experiment').argument('<id-or-name>').argument('<new-name>')).action(async (idOrName: string, newName: string, flags: ClientFlags) => {
    const client = clientFrom(flags);
    const e = await resolveExperiment(client, idOrName);
    await client.renameExperiment(e.experimentId, newName);
    if (flags.json) printJson({ experiment_id: e.experimentId, name: newName });
    else process.stdout.write(`Renamed experiment ${e.experimentId} to '${newName}'\n`);
  });

  clientOptions(exp.command('delete').description('Delete an experiment (soft: restore brings it back with its runs)').argument('<id-or-name>')).action(async (idOrName: string, flags: ClientFlags) => {
    const client = clientFrom(flags);
    const e = await resolveExperiment(client, idOrName);
    await client.deleteExperiment(e.experimentId);
    if (flags.json) printJson({ experiment_id: e.experimentId, lifecycle_stage: 'deleted' });
    else process.stdout.write(`Deleted experiment ${e.experimentId} ('${e.name}')\n`);
  });

  clientOptions(exp.command('restore').description('Restore a deleted experiment').argument('<id-or-name>')).action(async (idOrName: string, flags: ClientFlags) => {
    const client = clientFrom(flags);
    const e = await resolveExperiment(client, idOrName);
    await client.restoreExperiment(e.experimentId);
    if (flags.json) printJson({ experiment_id: e.experimentId, lifecycle_stage: 'active' });
    else process.stdout.write(`Restored experiment ${e.experimentId} ('${e.name}')\n`);
  });
}
