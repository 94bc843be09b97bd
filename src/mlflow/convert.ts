import type { Experiment, Metric, Run, RunInfo, Tag } from '../tracking/types.js';
import type { ModelOutput } from '../tracking/logged-model-types.js';
import { parseDouble, parseInt64 } from './fields.js';
import { invalid } from '../platform/errors.js';
import { jsonDouble } from '../tracking/types.js';
import type { MetricHistoryColumns } from '../tracking/history-types.js';
import { SlicedJsonWriter } from '../platform/http/json-writer.js';

/** Entities → MLflow's JSON shapes (proto field names; doubles that JSON cannot hold become "NaN"/"Infinity"). */

export function mlflowExperiment(e: Experiment): Record<string, unknown> {
  return {
    experiment_id: e.experimentId,
    name: e.name,
    artifact_location: e.artifactLocation,
    lifecycle_stage: e.lifecycleStage,
    last_update_time: e.lastUpdateTime,
    creation_time: e.creationTime,
    tags: e.tags.map(tag),
  };
}

export function mlflowRunInfo(i: RunInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {
    run_id: i.runId,
    run_uuid: i.runId,
    run_name: i.runName,
    experiment_id: i.experimentId,
    user_id: i.userId,
    status: i.status,
    start_time: i.startTime,
    artifact_uri: i.artifactUri,
    lifecycle_stage: i.lifecycleStage,
  };
  if (i.endTime !== null) out.end_time = i.endTime;
  return out;
}

export function mlflowMetric(m: Metric, runId?: string): Record<string, unknown> {
  const out: Record<string, unknown> = { key: m.key, value: jsonDouble(m.value), timestamp: m.timestamp, step: m.step };
  if (runId !== undefined) out.run_id = runId;
  return out;
}

export function mlflowRun(r: Run, models: { outputs?: readonly ModelOutput[] | undefined; inputs?: readonly string[] | undefined } = {}): Record<string, unknown> {
  const modelOutputs = models.outputs ?? [];
  const modelInputs = models.inputs ?? [];
  return {
    info: mlflowRunInfo(r.info),
    data: {
      metrics: r.data.metrics.map((m) => mlflowMetric(m)),
      params: r.data.params.map(tag),
      tags: r.data.tags.map(tag),
    },
    inputs: {
      dataset_inputs: r.inputs.datasetInputs.map((d) => ({
        tags: d.tags.map(tag),
        dataset: {
          name: d.dataset.name,
          digest: d.dataset.digest,
          source_type: d.dataset.sourceType,
          source: d.dataset.source,
          ...(d.dataset.schema ? { schema: d.dataset.schema } : {}),
          ...(d.dataset.profile ? { profile: d.dataset.profile } : {}),
        },
      })),
      ...(modelInputs.length ? { model_inputs: modelInputs.map((id) => ({ model_id: id })) } : {}),
    },
    outputs: modelOutputs.length ? { model_outputs: modelOutputs.map((o) => ({ model_id: o.modelId, step: o.step })) } : {},
  };
}

function tag(t: Tag): { key: string; value: string } {
  return { key: t.key, value: t.value };
}

/** MLflow JSON → entities, with types checked (values are validated further by the service). */
export function readKeyValues(list: Record<string, unknown>[], field: string): Tag[] {
  return list.map((t, i) => {
    if (typeof t.key !== 'string') throw invalid(`Invalid value ${JSON.stringify(t.key)} for parameter '${field}[${i}].key' supplied: expected a string.`);
    const v = t.value;
    if (v !== undefined && v !== null && typeof v !== 'string') {
      throw invalid(`Invalid value ${JSON.stringify(v)?.slice(0, 40)} for parameter '${field}[${i}].value' supplied: expected a string.`);
    }
    return { key: t.key, value: typeof v === 'string' ? v : '' };
  });
}

export function readMetrics(list: Record<string, unknown>[], field = 'metrics'): Metric[] {
  return list.map((m, i) => {
    if (typeof m.key !== 'string') throw invalid(`Invalid value ${JSON.stringify(m.key)} for parameter '${field}[${i}].key' supplied: expected a string.`);
    if (m.value === undefined || m.value === null) throw invalid(`Missing value for required parameter '${field}[${i}].value'.`);
    if (m.timestamp === undefined || m.timestamp === null) throw invalid(`Missing value for required parameter '${field}[${i}].timestamp'.`);
    return {
      key: m.key,
      value: parseDouble(`${field}[${i}].value`, m.value),
      timestamp: parseInt64(`${field}[${i}].timestamp`, m.timestamp),
      step: parseInt64(`${field}[${i}].step`, m.step, 0),
    };
  });
}

/**
 * A history page's `{"metrics":[...],"next_page_token":...}` written directly from its columns: long histories are
 * the largest answers the server gives, and writing the text in one pass is several times faster than serializing
 * 25,000 objects. Written 1,000 points at a time, other requests getting their turn in between (SlicedJsonWriter).
 */
export async function metricHistoryJson(h: MetricHistoryColumns): Promise<Buffer> {
  const keyJson = JSON.stringify(h.key);
  const { steps, timestamps, values } = h;
  const out = new SlicedJsonWriter().text('{"metrics":[');
  await out.list(steps.length, (from, to) => {
    const parts: string[] = new Array(to - from);
    for (let i = from; i < to; i++) {
      const v = values[i]!;
      const value = Number.isFinite(v) ? String(v) : `"${jsonDouble(v) as string}"`;
      parts[i - from] = `{"key":${keyJson},"value":${value},"timestamp":${timestamps[i]!},"step":${steps[i]!}}`;
    }
    return parts.join(',');
  });
  out.text(`]${h.nextPageToken ? `,"next_page_token":${JSON.stringify(h.nextPageToken)}` : ''}}`);
  return out.toBuffer();
}
