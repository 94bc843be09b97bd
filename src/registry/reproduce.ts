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
    const code = {
      source_type: tags.get('mlflow.source.type') ?? null,
      entry_point: tags.get('mlflow.source.name') ?? null,
      git_commit: tags.get('mlflow.source.git.commit') ?? null,
      git_repo: tags.get('mlflow.source.git.repoURL') ?? tags.get('mlflow.gitRepoURL') ?? null,
      git_branch: tags.get('mlflow.source.git.branch') ?? null,
      project_entry_point: tags.get('mlflow.project.entryPoint') ?? null,
    };
    if (run && !code.git_commit) gaps.push('no git commit was recorded (mlflow.source.git.commit)');

    const inputs = run ? await this.tracking.datasetInputsOf([run.info.runId]) : [];
    const known = this.data && inputs.length ? await this.data.versionsByDigests(inputs.map((i) => i.digest)) : [];
    const datasets = inputs.map((i) => {
      const k = known.find((d) => d.digest === i.digest || d.mlflowDigest === i.digest);
      if (!k) gaps.push(`dataset ${i.name} (${i.digest}) is not a Kiln dataset version: its content is identified by digest only`);
      return { name: i.name, digest: i.digest, source_type: i.sourceType, source: i.source, context: i.context, kiln_version: k ? { name: k.name, version: k.version, digest: k.digest } : null };
    });
    if (run && inputs.length === 0) gaps.push('the run logged no dataset inputs');

    const environment = {
      runtime: Object.fromEntries([...tags].filter(([k]) => k.startsWith('kiln.runtime.') || k.startsWith('mlflow.runtime'))),
      python_version: null as string | null,
      requirements: null as string | null,
      conda: null as string | null,
      python_env: null as string | null,
    };
    const pyfunc = v.package?.mlmodel?.flavors.python_function;
    if (typeof pyfunc?.python_version === 'string') environment.python_version = pyfunc.python_version;
    for (const [field, file] of Object.entries(ENV_FILES) as [keyof typeof ENV_FILES, string][]) environment[field] = await this.readSmall(v.name, v.version, file);

    const steps: string[] = [];
    if (code.git_repo || code.git_commit) steps.push(`git clone ${code.git_repo ?? '<repository>'} && git checkout ${code.git_commit ?? '<commit>'}`);
    if (environment.requirements) steps.push('pip install -r requirements.txt  # from the model folder: kiln models download ' + `${v.name} ${v.version}`);
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
