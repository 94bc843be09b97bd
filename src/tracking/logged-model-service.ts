import type { TrackingTables } from './tables.js';
import { randomUUID } from 'node:crypto';
import type { MetadataStore } from '../platform/db/types.js';
import { invalid, notFound } from '../platform/errors.js';
import { offsetFromPageToken, offsetPage } from '../platform/pagination.js';
import { LoggedModelStore } from './logged-model-store.js';
import { LOGGED_MODEL_STATUSES, type CreateLoggedModelInput, type LoggedModel, type LoggedModelMetric, type LoggedModelStatus, type ModelOutput, type SearchLoggedModelsInput } from './logged-model-types.js';
import { compileLoggedModelFilter, compileLoggedModelOrder } from './search/index.js';
import type { TrackingService } from './service.js';
import type { Page, Param, Tag } from './types.js';
import { validateMaxResults } from '../platform/pagination.js';
import { validateKey } from '../platform/validation.js';
import { parseExperimentIds, validateParam, validateRunTag } from './validation.js';

const MODEL_ID = /^m-[0-9a-f]{32}$/;

/** MLflow 3 logged models: create, finalize, tag, parametrize, search, delete, and link runs to them. */
export class LoggedModelService {
  private readonly store: LoggedModelStore;

  constructor(
    meta: MetadataStore,
    private readonly tracking: TrackingService,
    private readonly now: () => number = Date.now,
  ) {
    this.store = new LoggedModelStore(meta.db.withTables<TrackingTables>());
  }

  async create(input: CreateLoggedModelInput): Promise<LoggedModel> {
    const exp = await this.tracking.getExperiment(input.experimentId);
    if (exp.lifecycleStage !== 'active') throw invalid(`The experiment ${exp.experimentId} must be in the 'active' state.`);
    if (input.sourceRunId) await this.tracking.getRunInfo(input.sourceRunId);
    const params = dedupe((input.params ?? []).map((p) => validateParam(p.key, p.value)));
    const tags = dedupe((input.tags ?? []).map((t) => validateRunTag(t.key, t.value)));
    const modelId = `m-${randomUUID().replace(/-/g, '')}`;
    const name = input.name && input.name.trim() !== '' ? input.name : `model-${modelId.slice(2, 10)}`;
    if (name.length > 500) throw invalid('Logged model name had length > 500');
    const now = this.now();
    await this.store.insert(
      {
        model_id: modelId,
        experiment_id: Number(exp.experimentId),
        name,
        model_type: input.modelType ?? null,
        source_run_id: input.sourceRunId ?? null,
        status: 'LOGGED_MODEL_PENDING',
        status_message: null,
        artifact_location: `${exp.artifactLocation}/models/${modelId}/artifacts`,
        creation_time: now,
        last_update_time: now,
        lifecycle_stage: 'active',
      },
      params,
      tags,
    );
    return this.get(modelId);
  }

  async get(modelId: string): Promise<LoggedModel> {
    const row = typeof modelId === 'string' && MODEL_ID.test(modelId) ? await this.store.row(modelId) : undefined;
    if (!row) throw notFound(`Logged model with ID '${String(modelId)}' not found.`);
    return (await this.store.load([row]))[0]!;
  }

  async finalize(modelId: string, status: string, message?: string): Promise<LoggedModel> {
    await this.get(modelId);
    if (!(LOGGED_MODEL_STATUSES as readonly string[]).includes(status) || status === 'LOGGED_MODEL_PENDING') {
      throw invalid(`Invalid status '${status}': a logged model is finalized as LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED.`);
    }
    await this.store.setStatus(modelId, status as LoggedModelStatus, message ?? null, this.now());
    return this.get(modelId);
  }

  async delete(modelId: string): Promise<void> {
    await this.get(modelId);
    await this.store.softDelete(modelId, this.now());
  }

  async setTags(modelId: string, tags: readonly Tag[]): Promise<LoggedModel> {
    await this.get(modelId);
    await this.store.upsert('logged_model_tags', modelId, dedupe(tags.map((t) => validateRunTag(t.key, t.value))), this.now());
    return this.get(modelId);
  }

  async deleteTag(modelId: string, key: string): Promise<void> {
    await this.get(modelId);
    validateKey('tag', key);
    if (!(await this.store.deleteTag(modelId, key))) throw notFound(`No tag with key '${key}' on logged model ${modelId}`);
  }

  /** Params are immutable, as on runs. */
  async logParams(modelId: string, params: readonly Param[]): Promise<void> {
    await this.get(modelId);
    const valid = dedupe(params.map((p) => validateParam(p.key, p.value)));
    const existing = await this.store.existingParams(modelId, valid.map((p) => p.key));
    for (const p of valid) {
      const old = existing.get(p.key);
      if (old !== undefined && old !== p.value) throw invalid(`Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${old}' for logged model '${modelId}'.`);
    }
    await this.store.upsert('logged_model_params', modelId, valid, this.now(), true);
  }

  async search(input: SearchLoggedModelsInput): Promise<Page<LoggedModel>> {
    const limit = validateMaxResults(input.maxResults, 50, 50);
    const offset = offsetFromPageToken(input.pageToken);
    const ids = parseExperimentIds(input.experimentIds);
    if (ids.length === 0) throw invalid('experiment_ids must name at least one experiment');
    const where = compileLoggedModelFilter(input.filter);
    const order = compileLoggedModelOrder(input.orderBy ?? []);
    // Only the experiments the caller may read (none left: an empty page, as for experiments without models).
    const readable = await this.tracking.readableExperimentIds(ids);
    if (readable.length === 0) return { items: [] };
    const rows = await this.store.search(readable, where, order, offset, limit + 1);
    return offsetPage(rows, limit, offset, (r) => this.store.load(r));
  }

  /** Records that a run produced these models (MLflow's runs/outputs). */
  async logOutputs(runId: string, outputs: readonly ModelOutput[]): Promise<void> {
    const run = await this.tracking.getRunInfo(runId);
    if (run.lifecycleStage !== 'active') throw invalid(`The run ${runId} must be in the 'active' state.`);
    for (const o of outputs) {
      await this.get(o.modelId);
      if (!Number.isSafeInteger(o.step)) throw invalid(`Invalid step for model output ${o.modelId}`);
    }
    await this.store.addOutputs(runId, outputs);
  }

  /** Fails with RESOURCE_DOES_NOT_EXIST unless every id names an active logged model; call before writing anything. */
  async requireModels(modelIds: Iterable<string>): Promise<void> {
    for (const id of new Set(modelIds)) await this.get(id);
  }

  /**
   * Stores metric points against their logged models (MLflow 3 `model_id` on a metric). The caller has logged the
   * same points on the run, which the points name, and has checked the models with `requireModels`.
   */
  async logMetrics(metrics: readonly LoggedModelMetric[]): Promise<void> {
    for (const m of metrics) {
      if (m.datasetName !== undefined && m.datasetName.length > 500) throw invalid(`dataset_name of metric '${m.key}' is longer than 500 characters`);
      if (m.datasetDigest !== undefined && m.datasetDigest.length > 36) throw invalid(`dataset_digest of metric '${m.key}' is longer than 36 characters`);
    }
    await this.store.addMetrics(metrics);
  }

  /** Records that a run used these logged models as inputs (MLflow 3 `log-inputs` with `models`). */
  async logInputs(runId: string, modelIds: readonly string[]): Promise<void> {
    const run = await this.tracking.getRunInfo(runId);
    if (run.lifecycleStage !== 'active') throw invalid(`The run ${runId} must be in the 'active' state.`);
    await this.requireModels(modelIds);
    await this.store.addInputs(runId, modelIds);
  }

  inputsOf(runIds: readonly string[]): Promise<Map<string, string[]>> {
    return this.store.inputsOf(runIds);
  }

  outputsOf(runIds: readonly string[]): Promise<Map<string, ModelOutput[]>> {
    return this.store.outputsOf(runIds);
  }
}

function dedupe<T extends { key: string }>(items: readonly T[]): T[] {
  const m = new Map<string, T>();
  for (const i of items) m.set(i.key, i);
  return [...m.values()];
}
