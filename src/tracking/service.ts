import type { Kysely } from 'kysely';
import type { ArtifactStore } from '../platform/artifacts/types.js';
import { RunArtifactService } from './artifact-service.js';
import { LoggedModelService } from './logged-model-service.js';
import { TrackingLineageStore } from './lineage-store.js';
import type { TrackingTables } from './tables.js';
import type { MetadataStore } from '../platform/db/types.js';
import { KilnError, invalid, notFound } from '../platform/errors.js';
import { newRunId } from '../platform/ids.js';
import { authenticatedName } from '../platform/auth/context.js';
import { DEFAULT_PROJECT, DEFAULT_PROJECT_ID, experimentReadFilter } from '../platform/auth/access.js';
import { numericId, readCondition } from '../platform/auth/access-sql.js';
import type { ResourceDirectory, ResourceOwner } from '../platform/auth/resources.js';
import type { AuditLog, AuditRecord } from '../platform/audit/log.js';
import { offsetFromPageToken, offsetPage, validateMaxResults } from '../platform/pagination.js';
import { validateKey } from '../platform/validation.js';
import { ExperimentStore } from './experiment-store.js';
import { MetricHistoryReader, type HistoryQuery } from './metric-history.js';
import type { MetricHistoryColumns } from './history-types.js';
import { randomRunName } from './run-names.js';
import { RUN_NAME_TAG, RunStore, toRunInfo, type DatasetSummary, type RunRow } from './run-store.js';
import { countRunRows, parseRunFilter, parseRunOrderBy, searchExperimentRows, searchRunRows, type RunCounts } from './search/index.js';
import { RunKeysStore, type ExperimentKeys } from './keys-store.js';
import type {
  CreateExperimentInput,
  CreateRunInput,
  DatasetInput,
  Experiment,
  LogBatchInput,
  MetricHistory,
  MetricHistoryInput,
  Page,
  Run,
  RunDatasetLink,
  RunSummary,
  RunInfo,
  SearchExperimentsInput,
  SearchRunsInput,
  TrackingApi,
  UpdateRunInput,
} from './types.js';
import {
  LIMITS,
  parseExperimentId,
  parseExperimentIds,
  validateExperimentName,
  validateExperimentTag,
  validateMetric,
  validateParam,
  validateRunId,
  validateRunName,
  validateArtifactLocation,
  validateRunTag,
  validateStatus,
  validateTime,
  validateViewType,
} from './validation.js';
import { validateDatasetInputs } from './dataset-validation.js';

export interface TrackingServiceOptions {
  /** Where new experiments put their artifacts when the caller names no location. */
  readonly defaultArtifactRoot?: string;
  /** Folders of the artifact store that other capabilities own: experiment locations may not point into them. */
  readonly reservedArtifactPrefixes?: readonly string[];
  readonly now?: () => number;
  /** Where experiment changes and run deletions are recorded, in their transaction (none: not recorded). */
  readonly audit?: AuditLog;
  /** Finds the project a new experiment names (none: only the default project exists). */
  readonly resources?: ResourceDirectory;
}

/** Experiment tracking over the metadata store. Plain inputs, plain outputs; no HTTP here. */
export class TrackingService implements TrackingApi {
  private readonly experiments: ExperimentStore;
  private readonly runs: RunStore;
  private readonly history: MetricHistoryReader;
  private readonly lineage: TrackingLineageStore;
  private readonly keys: RunKeysStore;
  private readonly db: Kysely<TrackingTables>;
  private readonly now: () => number;
  private readonly reservedArtifactPrefixes: readonly string[];
  private readonly defaultArtifactRoot: string;
  private readonly audit: AuditLog | undefined;
  private readonly resources: ResourceDirectory | undefined;

  /** A run's artifact files (through the server's artifact store). */
  readonly artifacts: RunArtifactService;
  /** MLflow 3 logged models. */
  readonly loggedModels: LoggedModelService;

  constructor(
    private readonly store: MetadataStore,
    artifactStore: ArtifactStore,
    opts: TrackingServiceOptions = {},
  ) {
    this.db = store.db.withTables<TrackingTables>();
    this.reservedArtifactPrefixes = opts.reservedArtifactPrefixes ?? [];
    this.artifacts = new RunArtifactService(this, artifactStore, this.reservedArtifactPrefixes);
    this.loggedModels = new LoggedModelService(store, this, opts.now);
    this.experiments = new ExperimentStore(this.db, store.adapter);
    this.runs = new RunStore(this.db, store.adapter);
    this.lineage = new TrackingLineageStore(this.db);
    this.keys = new RunKeysStore(this.db);
    this.history = new MetricHistoryReader(store);
    this.now = opts.now ?? Date.now;
    this.defaultArtifactRoot = (opts.defaultArtifactRoot ?? 'mlflow-artifacts:').replace(/\/+$/, '');
    this.audit = opts.audit;
    this.resources = opts.resources;
  }

  /** The SQL condition that keeps a run search to what the caller may read (none: everything). */
  private readableRuns() {
    return readCondition(experimentReadFilter(), 'runs.project_id', 'runs.experiment_id', numericId);
  }

  /** Of the given experiments, the ones the caller may read. */
  async readableExperimentIds(ids: readonly number[]): Promise<number[]> {
    const cond = readCondition(experimentReadFilter(), 'experiments.project_id', 'experiments.experiment_id', numericId);
    if (!cond || ids.length === 0) return [...ids];
    const rows = await this.db.selectFrom('experiments').select('experiment_id').where('experiment_id', 'in', [...ids]).where(cond).execute();
    const ok = new Set(rows.map((r) => Number(r.experiment_id)));
    return ids.filter((id) => ok.has(id));
  }

  /** Who owns an experiment, a run, a logged model or an artifact path: for the route rules (see platform/auth/resources.ts). */
  registerResolvers(resources: ResourceDirectory): void {
    // Owners never change (an experiment stays in its project, a run and a logged model in their experiment; their ids
    // are never reused), so what was found is kept per process: a rule's check costs no query on a hot run.
    const known = new OwnerCache();
    const ofExperiment = async (id: number | undefined) => {
      if (id === undefined) return undefined;
      return known.get(`e:${id}`, async () => {
        const r = await this.db.selectFrom('experiments').select(['project_id']).where('experiment_id', '=', id).executeTakeFirst();
        return r ? { projectId: Number(r.project_id), experimentId: String(id) } : undefined;
      });
    };
    resources.register('experiment', (id) => ofExperiment(parseExperimentId(id)));
    resources.register('run', (id) =>
      known.get(`r:${id}`, async () => {
        const r = await this.db.selectFrom('runs').select(['project_id', 'experiment_id']).where('run_id', '=', id).executeTakeFirst();
        return r ? { projectId: Number(r.project_id), experimentId: String(r.experiment_id) } : undefined;
      }),
    );
    resources.register('logged-model', (id) =>
      known.get(`m:${id}`, async () => {
        const m = await this.db.selectFrom('logged_models').select(['experiment_id']).where('model_id', '=', id).executeTakeFirst();
        return m ? ofExperiment(Number(m.experiment_id)) : undefined;
      }),
    );
    resources.registerUsage(async (projectId) => !!(await this.db.selectFrom('experiments').select('experiment_id').where('project_id', '=', projectId).limit(1).executeTakeFirst()));
    // Artifact paths of the artifact proxy start with their experiment's id (`<experiment id>/<run id>/artifacts/…`);
    // any other path is the server's alone.
    resources.register('artifact', async (path) => {
      const first = path.replace(/^\/+/, '').split('/')[0] ?? '';
      const owner = await ofExperiment(parseExperimentId(first));
      if (!owner) throw notFound(`Artifact path '${path}' does not exist.`);
      return owner;
    });
  }

  /**
   * Runs a change with stores on one transaction that also appends its audit entry (`record`, from the change's
   * result), so the change and its entry commit together; without an audit log, on the service's own stores.
   */
  private async audited<T>(record: (result: T) => AuditRecord, change: (experiments: ExperimentStore, runs: RunStore) => Promise<T>): Promise<T> {
    if (!this.audit) return change(this.experiments, this.runs);
    return this.audit.transaction(this.db, async (trx, rec) => {
      const result = await change(new ExperimentStore(trx, this.store.adapter), new RunStore(trx, this.store.adapter));
      rec(record(result));
      return result;
    });
  }

  // ---------------------------------------------------------------- lineage
  // Batched reads for the lineage graph and the promotion gates: one indexed query per hop, whatever the frontier.

  runSummaries(runIds: readonly string[]): Promise<RunSummary[]> {
    return this.lineage.runSummaries(runIds);
  }

  /** The dataset inputs of these runs. */
  datasetInputsOf(runIds: readonly string[]): Promise<RunDatasetLink[]> {
    return this.lineage.datasetInputs(runIds);
  }

  /** The runs that used a dataset with one of these digests. */
  runsUsingDigests(digests: readonly string[]): Promise<RunDatasetLink[]> {
    return this.lineage.runsUsingDigests(digests);
  }

  childRuns(parentRunIds: readonly string[]): Promise<{ parentRunId: string; runId: string }[]> {
    return this.lineage.childRuns(parentRunIds);
  }

  parentRuns(runIds: readonly string[]): Promise<{ parentRunId: string; runId: string }[]> {
    return this.lineage.parentRuns(runIds);
  }

  /** Run counts and last activity of experiments. */
  async experimentStats(experimentIds: readonly number[]): Promise<{ experimentId: string; runs: number; running: number; lastActivity: number | null }[]> {
    return this.lineage.experimentStats(await this.readableExperimentIds(experimentIds));
  }

  // ---------------------------------------------------------------- experiments

  async createExperiment(input: CreateExperimentInput): Promise<string> {
    const name = validateExperimentName(input.name);
    const projectId = this.resources ? await this.resources.projectId(input.project) : DEFAULT_PROJECT_ID;
    const tags = (input.tags ?? []).map((t) => validateExperimentTag(t.key, t.value));
    let location: string | ((id: number) => string) = (id) => `${this.defaultArtifactRoot}/${id}`;
    if (input.artifactLocation !== undefined && input.artifactLocation !== '') {
      location = validateArtifactLocation(input.artifactLocation, this.reservedArtifactPrefixes);
    }
    const id = await this.audited(
      (id) => ({ action: 'tracking.experiment_created', resourceType: 'experiment', resourceId: String(id), details: { name } }),
      (experiments) => experiments.create(name, location, tags, this.now(), projectId),
    );
    return String(id);
  }

  async getExperiment(experimentId: string): Promise<Experiment> {
    return this.experiments.require(parseExperimentId(experimentId), experimentId);
  }

  async getExperimentByName(name: string): Promise<Experiment> {
    if (typeof name !== 'string' || name === '') throw invalid('experiment_name must be a non-empty string');
    const e = await this.experiments.getByName(name);
    if (!e || (await this.readableExperimentIds([Number(e.experimentId)])).length === 0) throw notFound(`Could not find experiment with name '${name}'`);
    return e;
  }

  async searchExperiments(input: SearchExperimentsInput): Promise<Page<Experiment>> {
    const limit = validateMaxResults(input.maxResults, LIMITS.searchMaxResultsDefault, LIMITS.experimentsMaxResults);
    const offset = offsetFromPageToken(input.pageToken);
    let projectId: number | undefined;
    if (input.project !== undefined) {
      projectId = this.resources ? await this.resources.findProject(input.project) : input.project === DEFAULT_PROJECT ? DEFAULT_PROJECT_ID : undefined;
      if (projectId === undefined) return { items: [] };
    }
    const rows = await searchExperimentRows(this.db, {
      projectId,
      readable: readCondition(experimentReadFilter(), 'experiments.project_id', 'experiments.experiment_id', numericId),
      filter: input.filter,
      orderBy: input.orderBy,
      viewType: validateViewType(input.viewType),
      offset,
      limit: limit + 1,
    });
    return offsetPage(rows, limit, offset, (r) => this.experiments.withTags(r));
  }

  async renameExperiment(experimentId: string, newName: string): Promise<void> {
    const exp = await this.getExperiment(experimentId);
    const name = validateExperimentName(newName);
    if (exp.lifecycleStage !== 'active') throw invalid(`Cannot rename a non-active experiment. Experiment ${experimentId} is ${exp.lifecycleStage}.`);
    await this.audited(
      () => ({ action: 'tracking.experiment_renamed', resourceType: 'experiment', resourceId: exp.experimentId, details: { from: exp.name, to: name } }),
      (experiments) => experiments.rename(Number(exp.experimentId), name, this.now()),
    );
  }

  async deleteExperiment(experimentId: string): Promise<void> {
    const exp = await this.getExperiment(experimentId);
    if (exp.experimentId === '0') throw invalid('Cannot delete the default experiment (id 0).');
    if (exp.lifecycleStage === 'deleted') return;
    await this.audited(
      () => ({ action: 'tracking.experiment_deleted', resourceType: 'experiment', resourceId: exp.experimentId, details: { name: exp.name } }),
      (experiments) => experiments.setLifecycle(Number(exp.experimentId), 'deleted', this.now()),
    );
  }

  async restoreExperiment(experimentId: string): Promise<void> {
    const exp = await this.getExperiment(experimentId);
    if (exp.lifecycleStage === 'active') return;
    await this.audited(
      () => ({ action: 'tracking.experiment_restored', resourceType: 'experiment', resourceId: exp.experimentId, details: { name: exp.name } }),
      (experiments) => experiments.setLifecycle(Number(exp.experimentId), 'active', this.now()),
    );
  }

  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    const exp = await this.activeExperiment(experimentId);
    const tag = validateExperimentTag(key, value);
    await this.audited(
      () => ({ action: 'tracking.experiment_tag_set', resourceType: 'experiment', resourceId: exp.experimentId, details: { key: tag.key } }),
      (experiments) => experiments.setTag(Number(exp.experimentId), tag.key, tag.value, this.now()),
    );
  }

  async deleteExperimentTag(experimentId: string, key: string): Promise<void> {
    const exp = await this.activeExperiment(experimentId);
    validateKey('tag', key);
    await this.audited(
      () => ({ action: 'tracking.experiment_tag_deleted', resourceType: 'experiment', resourceId: exp.experimentId, details: { key } }),
      async (experiments) => {
        if (!(await experiments.deleteTag(Number(exp.experimentId), key))) throw notFound(`No tag with name: ${key} in experiment with id ${experimentId}`);
      },
    );
  }

  private async activeExperiment(experimentId: string): Promise<Experiment> {
    const exp = await this.getExperiment(experimentId);
    if (exp.lifecycleStage !== 'active') throw invalid(`The experiment ${experimentId} must be in the 'active' state. Current state is ${exp.lifecycleStage}.`);
    return exp;
  }

  // ---------------------------------------------------------------- runs

  async createRun(input: CreateRunInput): Promise<Run> {
    const expIdText = input.experimentId ?? '0';
    const expId = parseExperimentId(expIdText);
    if (expId === undefined) throw notFound(`No Experiment with id=${expIdText} exists`);
    const tags = (input.tags ?? []).map((t) => validateRunTag(t.key, t.value));
    const startTime = input.startTime === undefined ? this.now() : validateTime('start_time', input.startTime);
    const nameFromTag = tags.find((t) => t.key === RUN_NAME_TAG)?.value;
    if (input.runName !== undefined && nameFromTag !== undefined && input.runName !== nameFromTag) {
      throw invalid(`Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${input.runName}', mlflow.runName='${nameFromTag}').`);
    }
    const name = validateRunName(input.runName || nameFromTag || randomRunName());
    // Signed in, the run is the caller's, whatever the client says; without authentication, who the client names.
    const userId = authenticatedName() ?? input.userId ?? tags.find((t) => t.key === 'mlflow.user')?.value ?? '';
    const runId = newRunId();
    const allTags = nameFromTag === undefined ? [...tags, { key: RUN_NAME_TAG, value: name }] : tags;
    const inactive = (id: number, stage: string) => invalid(`The experiment ${id} must be in the 'active' state. Current state is ${stage}.`);
    const base = { run_id: runId, name, user_id: userId, status: 'RUNNING' as const, start_time: startTime, end_time: null, deleted_time: null };
    let row: Omit<RunRow, 'run_pk'>;
    if (this.runs.createsInOneStatement) {
      // One statement checks the experiment and creates the run with its tags.
      const created = await this.runs.insertUnderExperiment(expId, base, allTags);
      if (!created) throw notFound(`No Experiment with id=${expIdText} exists`);
      if (created.artifactUri === null) throw inactive(expId, created.stage);
      row = { ...base, experiment_id: expId, artifact_uri: created.artifactUri, lifecycle_stage: 'active', project_id: created.projectId };
    } else {
      // The experiment's row is enough here (its tags are not needed): one query.
      const exp = await this.experiments.requireRow(expId, expIdText);
      if (exp.lifecycle_stage !== 'active') throw inactive(Number(exp.experiment_id), exp.lifecycle_stage);
      row = { ...base, experiment_id: Number(exp.experiment_id), artifact_uri: `${exp.artifact_location}/${runId}/artifacts`, lifecycle_stage: 'active', project_id: Number(exp.project_id) };
      await this.runs.insert(row, allTags);
    }
    // Everything about the new run is known here; no need to read it back.
    const lastByKey = new Map(allTags.map((t) => [t.key, t.value]));
    return {
      info: toRunInfo(row),
      data: { metrics: [], params: [], tags: [...lastByKey].map(([key, value]) => ({ key, value })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)) },
      inputs: { datasetInputs: [] },
    };
  }

  async getRun(runId: string): Promise<Run> {
    const row = await this.runs.requireRow(validateRunId(runId));
    return (await this.runs.loadRuns([row]))[0]!;
  }

  /**
   * Checks a run filter and order_by without running a search: what a search would refuse, as data (the UI checks
   * what a user types without provoking error responses).
   */
  checkRunSearch(filter: string | undefined, orderBy: readonly string[] | undefined): { valid: true } | { valid: false; message: string; details: Record<string, unknown> } {
    try {
      parseRunFilter(filter);
      parseRunOrderBy(orderBy);
      return { valid: true };
    } catch (e) {
      if (e instanceof KilnError && e.code === 'INVALID_PARAMETER_VALUE') return { valid: false, message: e.message, details: { ...(e.details ?? {}) } };
      throw e;
    }
  }

  async getRunInfo(runId: string): Promise<RunInfo> {
    return (await this.getRun(runId)).info;
  }

  async updateRun(input: UpdateRunInput): Promise<RunInfo> {
    const runId = validateRunId(input.runId);
    const set: { status?: RunInfo['status']; end_time?: number | null; name?: string } = {};
    if (input.status !== undefined) set.status = validateStatus(input.status);
    if (input.endTime !== undefined && input.endTime !== null) set.end_time = validateTime('end_time', input.endTime);
    if (input.runName !== undefined && input.runName !== '') set.name = validateRunName(input.runName);
    if (set.name === undefined && Object.keys(set).length > 0) {
      // The usual end of a run: one statement that changes an active run and returns it.
      const updated = await this.runs.updateActive(runId, set);
      if (updated) return toRunInfo(updated);
    }
    const row = await this.runs.requireRow(runId);
    if (row.lifecycle_stage !== 'active') throw invalid(`The run ${input.runId} must be in the 'active' state. Current state is ${row.lifecycle_stage}.`);
    if (Object.keys(set).length > 0) await this.runs.update(row.run_id, set);
    return toRunInfo({ ...row, ...set });
  }

  async deleteRun(runId: string): Promise<void> {
    const row = await this.runs.requireRow(validateRunId(runId));
    if (row.lifecycle_stage === 'deleted') return;
    await this.audited(
      () => ({ action: 'tracking.run_deleted', resourceType: 'run', resourceId: row.run_id, details: { experiment_id: String(row.experiment_id) } }),
      (_experiments, runs) => runs.setLifecycle(row.run_id, 'deleted', this.now()),
    );
  }

  async restoreRun(runId: string): Promise<void> {
    const row = await this.runs.requireRow(validateRunId(runId));
    if (row.lifecycle_stage === 'active') return;
    const exp = await this.getExperiment(String(row.experiment_id));
    if (exp.lifecycleStage !== 'active') throw invalid(`Cannot restore run ${runId}: its experiment ${exp.experimentId} is deleted. Restore the experiment first.`);
    await this.audited(
      () => ({ action: 'tracking.run_restored', resourceType: 'run', resourceId: row.run_id, details: { experiment_id: String(row.experiment_id) } }),
      (_experiments, runs) => runs.setLifecycle(row.run_id, 'active', this.now()),
    );
  }

  async logBatch(input: LogBatchInput): Promise<void> {
    const runId = validateRunId(input.runId);
    const metrics = input.metrics ?? [];
    const params = input.params ?? [];
    const tags = input.tags ?? [];
    if (metrics.length > LIMITS.maxBatchMetrics) throw invalid(`A batch logging request can contain at most ${LIMITS.maxBatchMetrics} metrics. Got ${metrics.length} metrics.`);
    if (params.length > LIMITS.maxBatchParams) throw invalid(`A batch logging request can contain at most ${LIMITS.maxBatchParams} params. Got ${params.length} params.`);
    if (tags.length > LIMITS.maxBatchTags) throw invalid(`A batch logging request can contain at most ${LIMITS.maxBatchTags} tags. Got ${tags.length} tags.`);
    if (metrics.length + params.length + tags.length > LIMITS.maxBatchEntities) {
      throw invalid(`A batch logging request can contain at most ${LIMITS.maxBatchEntities} metrics, params and tags in total.`);
    }
    const knownKeys = new Set<string>();
    const vm = metrics.map((m) => validateMetric(m, knownKeys));
    const vp = params.map((p) => validateParam(p.key, p.value));
    const vt = tags.map((t) => validateRunTag(t.key, t.value));
    await this.runs.logBatch(runId, vm, vp, vt);
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    const tag = validateRunTag(key, value);
    await this.runs.logBatch(validateRunId(runId), [], [], [tag]);
  }

  /** MLflow's runs/log-model: appends the MLmodel description to the run's mlflow.log-model.history tag. */
  async logModel(runId: string, modelJson: string): Promise<void> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(modelJson);
    } catch {
      throw invalid(`Invalid value for parameter 'model_json': it is not valid JSON.`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw invalid('model_json must be a JSON object');
    await this.runs.appendModelHistory(validateRunId(runId), parsed, LIMITS.maxRunTagValueLength);
  }

  async deleteTag(runId: string, key: string): Promise<void> {
    validateKey('tag', key);
    if (!(await this.runs.deleteTag(validateRunId(runId), key))) throw notFound(`No tag with name: ${key} in run with id ${runId}`);
  }

  async logInputs(runId: string, datasets: readonly DatasetInput[]): Promise<void> {
    const row = await this.runs.requireRow(validateRunId(runId));
    const inputs = validateDatasetInputs(datasets);
    if (inputs.length === 0) return;
    await this.runs.logInputs(row.run_id, Number(row.experiment_id), inputs, this.now());
  }

  async searchDatasets(experimentIds: readonly string[]): Promise<DatasetSummary[]> {
    return this.runs.datasetSummaries(await this.readableExperimentIds(parseExperimentIds(experimentIds)));
  }

  async searchRuns(input: SearchRunsInput): Promise<Page<Run>> {
    const limit = validateMaxResults(input.maxResults, LIMITS.searchMaxResultsDefault, LIMITS.searchMaxResults);
    const offset = input.offset ?? offsetFromPageToken(input.pageToken);
    if (!Number.isSafeInteger(offset) || offset < 0) throw invalid('offset must be a non-negative integer');
    const ids = parseExperimentIds(input.experimentIds);
    const rows = await searchRunRows(this.db, {
      experimentIds: ids,
      readable: this.readableRuns(),
      filter: input.filter,
      orderBy: input.orderBy,
      viewType: validateViewType(input.viewType),
      offset,
      limit: limit + 1,
    });
    return offsetPage(rows, limit, offset, (r) => this.runs.loadRuns(r));
  }

  /** The distinct metric, param and tag keys of an experiment's active runs (for column pickers and filter suggestions). */
  async experimentKeys(experimentId: string): Promise<ExperimentKeys> {
    const exp = await this.getExperiment(experimentId);
    return this.keys.experimentKeys(Number(exp.experimentId));
  }

  /** How many runs match a filter, and with groupBy how many per value of a param or tag. */
  async countRuns(input: { experimentIds: readonly string[]; filter?: string; viewType?: string; groupBy?: string; maxGroups?: number }): Promise<RunCounts> {
    return countRunRows(this.db, {
      experimentIds: parseExperimentIds(input.experimentIds),
      readable: this.readableRuns(),
      filter: input.filter,
      viewType: validateViewType(input.viewType),
      groupBy: input.groupBy,
      maxGroups: validateMaxResults(input.maxGroups, 1000, 10_000),
    });
  }

  async getMetricHistory(input: MetricHistoryInput): Promise<MetricHistory> {
    const q = await this.historyQuery(input);
    return q.maxPoints !== undefined ? this.history.downsampled({ ...q, maxPoints: q.maxPoints }) : this.history.page(q);
  }

  /**
   * getMetricHistory's answer as columns, without an object per point: what the HTTP routes write a page of up to
   * 25,000 points from.
   */
  async getMetricHistoryColumns(input: MetricHistoryInput): Promise<MetricHistoryColumns> {
    const q = await this.historyQuery(input);
    if (q.maxPoints !== undefined) return this.history.downsampledColumns({ ...q, maxPoints: q.maxPoints });
    return this.history.pageColumns(q);
  }

  private async historyQuery(input: MetricHistoryInput): Promise<HistoryQuery & { maxPoints?: number }> {
    const row = await this.runs.requireRow(validateRunId(input.runId));
    const key = validateKey('metric', input.key);
    const q = { runPk: Number(row.run_pk), key, startStep: optionalStep('start_step', input.startStep), endStep: optionalStep('end_step', input.endStep) };
    if (input.maxPoints !== undefined) {
      const maxPoints = validateMaxResults(input.maxPoints, 1000, LIMITS.maxPoints);
      if (maxPoints < 2) throw invalid('max_points must be at least 2');
      return { ...q, maxPoints };
    }
    // Always a bounded page (25,000 points unless fewer are asked for), with a token for the rest: one request never
    // reads, builds and sends a whole long history. MLflow's clients follow next_page_token.
    const limit = validateMaxResults(input.maxResults, LIMITS.metricHistoryMaxResults, LIMITS.metricHistoryMaxResults);
    return { ...q, limit, pageToken: input.pageToken };
  }
}

function optionalStep(name: string, v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw invalid(`${name} must be an integer`);
  return v;
}

/** Owners found, by key; what was not found is not kept (it may be created next). Bounded: cleared when full. */
class OwnerCache {
  private readonly owners = new Map<string, ResourceOwner>();

  async get(key: string, find: () => Promise<ResourceOwner | undefined>): Promise<ResourceOwner | undefined> {
    const hit = this.owners.get(key);
    if (hit) return hit;
    const found = await find();
    if (found) {
      if (this.owners.size >= 100_000) this.owners.clear();
      this.owners.set(key, found);
    }
    return found;
  }
}
