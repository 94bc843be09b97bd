import { KilnError } from '../platform/errors.js';
import type { TrackingService } from '../tracking/service.js';
import type { DataService } from '../data/service.js';
import type { ModelFiles } from './files.js';
import type { RegistryService } from './service.js';
import type { ReproductionRecipe } from './schemas.js';

export type { ReproductionRecipe } from './schemas.js';

const ENV_FILES = { requirements: 'requirements.txt', conda: 'conda.yaml', python_env: 'python_env.yaml' } as const;
const MAX_ENV_FILE = 256 * 1024;

/** Everything needed to reproduce a model version: code, params, data versions, environment. */
export class ReproduceService {
  constructor(
    private readonly registry: RegistryService,
    private readonly tracking: TrackingService,
    private readonly files: ModelFiles,
    private readonly data: Pick<DataService, 'versionsByDigests'> | undefined,
  ) {}

  async recipe(name: string, version: string | number): Promise<ReproductionRecipe> {
    const v = await this.registry.getVersion(name, version);
    const gaps: string[] = [];
    let run = null;
    try {
      run = v.runId ? await this.tracking.getRun(v.runId) : null;
    } catch (e) {
      if (!(e instanceof KilnError && e.code === 'RESOURCE_DOES_NOT_EXIST')) throw e;
      gaps.push(`the source run ${v.runId} no longer exists`);
    }
    if (!v.runId) gaps.push('the version names no source run: params, code and data are unknown');
    const tags = new Map((run?.data.tags ?? []).map((t) => [t.key, t.value]));
    const dirty = tags.get('kiln.source.git.dirty');
    const code = {
      source_type: tags.get('mlflow.source.type') ?? null,
      entry_point: tags.get('mlflow.source.name') ?? null,
      git_commit: tags.get('mlflow.source.git.commit') ?? null,
      git_repo: tags.get('mlflow.source.git.repoURL') ?? tags.get('mlflow.gitRepoURL') ?? null,
      git_branch: tags.get('mlflow.source.git.branch') ?? null,
      git_dirty: dirty === 'true' ? true : dirty === 'false' ? false : null,
      project_entry_point: tags.get('mlflow.project.entryPoint') ?? null,
    };
    if (run) {
      if (!code.git_commit) gaps.push('no git commit was recorded (mlflow.source.git.commit): the code that ran is unknown');
      if (!code.git_repo) gaps.push('no repository URL was recorded (mlflow.source.git.repoURL): where to fetch the code is unknown');
      if (code.git_dirty === true) gaps.push('the working tree had uncommitted changes when the run started (kiln.source.git.dirty): the commit does not hold the code that ran');
      else if (code.git_commit && code.git_dirty === null) gaps.push('whether the working tree had uncommitted changes was not recorded (kiln.source.git.dirty): the commit may not hold the code that ran');
    }

    const inputs = run ? await this.tracking.datasetInputsOf([run.info.runId]) : [];
    const known = this.data && inputs.length ? await this.data.versionsByDigests(inputs.map((i) => i.digest)) : [];
    const datasets = inputs.map((i) => {
      const k = known.find((d) => d.digest === i.digest || d.mlflowDigest === i.digest);
      if (!k) gaps.push(`dataset ${i.name} (${i.digest}) is not a Kiln dataset version: the data is not pinned, only its digest is known`);
      return { name: i.name, digest: i.digest, source_type: i.sourceType, source: i.source, context: i.context, kiln_version: k ? { name: k.name, version: k.version, digest: k.digest } : null };
    });
    if (run && inputs.length === 0) gaps.push('the run logged no dataset inputs: the data it used is unknown');

    const environment = {
      runtime: Object.fromEntries([...tags].filter(([k]) => k.startsWith('kiln.runtime.') || k.startsWith('mlflow.runtime'))),
      node_version: tags.get('kiln.runtime.node') ?? null,
      platform: tags.get('kiln.runtime.platform') ?? null,
      manifest: tags.get('kiln.runtime.manifest') ?? null,
      manifest_sha256: tags.get('kiln.runtime.manifest.sha256') ?? null,
      lockfile: tags.get('kiln.runtime.lockfile') ?? null,
      lockfile_sha256: tags.get('kiln.runtime.lockfile.sha256') ?? null,
      python_version: null as string | null,
      requirements: null as string | null,
      conda: null as string | null,
      python_env: null as string | null,
    };
    const pyfunc = v.package?.mlmodel?.flavors.python_function;
    if (typeof pyfunc?.python_version === 'string') environment.python_version = pyfunc.python_version;
    for (const [field, file] of Object.entries(ENV_FILES) as [keyof typeof ENV_FILES, string][]) environment[field] = await this.readSmall(v.name, v.version, file);
    if (run) gaps.push(...environmentGaps(environment));

    const steps: string[] = [];
    if (code.git_repo || code.git_commit) steps.push(`git clone ${code.git_repo ?? '<repository>'} && git checkout ${code.git_commit ?? '<commit>'}`);
    if (environment.node_version) {
      if (environment.manifest) {
        const lock = environment.lockfile ? ` with ${environment.lockfile} (sha256 ${environment.lockfile_sha256 ?? 'not recorded'})` : ' (no lockfile: versions are not pinned)';
        const dir = environment.manifest.includes('/') ? `cd ${environment.manifest.slice(0, environment.manifest.lastIndexOf('/'))} && ` : '';
        steps.push(`${dir}${installCommand(environment.lockfile)}  # Node ${environment.node_version}; ${environment.manifest} (sha256 ${environment.manifest_sha256 ?? 'not recorded'})${lock}`);
      }
    } else if (environment.requirements) {
      steps.push('pip install -r requirements.txt  # from the model folder: kiln models download ' + `${v.name} ${v.version}`);
    }
    for (const d of datasets) if (d.kiln_version) steps.push(`kiln data download ${d.kiln_version.name}@v${d.kiln_version.version}  # ${d.context ?? 'input'}, sha256 ${d.kiln_version.digest}`);
    const params = Object.fromEntries((run?.data.params ?? []).map((p) => [p.key, p.value]));
    if (code.entry_point) steps.push(`run ${code.entry_point}${Object.keys(params).length ? ` with ${Object.entries(params).map(([k, val]) => `${k}=${val}`).join(' ')}` : ''}`);

    return {
      model: { name: v.name, version: Number(v.version), source: v.source, storage_location: v.storageLocation, status: v.status, servable: v.servable },
      run: run
        ? { run_id: run.info.runId, run_name: run.info.runName, experiment_id: run.info.experimentId, user_id: run.info.userId, status: run.info.status, start_time: run.info.startTime, end_time: run.info.endTime }
        : null,
      code,
      params,
      datasets,
      environment,
      gaps,
      steps,
    };
  }

  /** A small text file of the version's folder, or null when absent or outside the server's store. */
  private async readSmall(name: string, version: string, file: string): Promise<string | null> {
    try {
      const obj = await this.files.read(name, version, file);
      if (obj.size > MAX_ENV_FILE) {
        obj.body.destroy();
        return null;
      }
      const chunks: Buffer[] = [];
      for await (const c of obj.body) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString('utf8');
    } catch (e) {
      if (e instanceof KilnError) return null;
      throw e;
    }
  }
}

/**
 * What is missing to rebuild the environment a run trained in. A run of the TypeScript SDK (kiln.runtime.node)
 * needs its package manifest and lockfile digests; any other run needs a runtime tag or a Python environment file
 * (requirements.txt, conda.yaml, python_env.yaml) in the model folder.
 */
function environmentGaps(env: ReproductionRecipe['environment']): string[] {
  if (env.node_version) {
    if (!env.manifest_sha256) return ["no package manifest was recorded (kiln.runtime.manifest.sha256): the script's dependencies are unknown"];
    if (!env.lockfile_sha256) return [`no lockfile was recorded beside ${env.manifest ?? 'the package manifest'} (kiln.runtime.lockfile.sha256): dependency versions are not pinned`];
    return [];
  }
  if (Object.keys(env.runtime).length === 0 && !env.requirements && !env.conda && !env.python_env) {
    return ['no environment was recorded: no kiln.runtime.* tags, and no requirements.txt, conda.yaml or python_env.yaml in the model folder'];
  }
  return [];
}

/** The install command that honours a lockfile. */
function installCommand(lockfile: string | null): string {
  const name = lockfile?.slice(lockfile.lastIndexOf('/') + 1);
  if (name === 'pnpm-lock.yaml') return 'pnpm install --frozen-lockfile';
  if (name === 'yarn.lock') return 'yarn install --frozen-lockfile';
  if (name === 'bun.lockb') return 'bun install --frozen-lockfile';
  if (name === 'package-lock.json' || name === 'npm-shrinkwrap.json') return 'npm ci';
  return 'npm install';
}
