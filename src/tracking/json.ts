import { tagsToMap } from '../platform/tags.js';
import { DEFAULT_PROJECT } from '../platform/auth/access.js';
import { jsonDouble, type Experiment, type Metric, type Run } from './types.js';
import type * as S from './schemas.js';

/** Domain entities as the native API's JSON (snake_case), shared by the HTTP routes and the CLI's --json output. */

/** An experiment's JSON; `project` is its project's name (the routes look it up from the id; default: the name it came with). */
export function experimentJson(e: Experiment, project: string = e.project ?? DEFAULT_PROJECT): S.Experiment {
  return {
    experiment_id: e.experimentId,
    name: e.name,
    artifact_location: e.artifactLocation,
    lifecycle_stage: e.lifecycleStage,
    creation_time: e.creationTime,
    last_update_time: e.lastUpdateTime,
    tags: tagsToMap(e.tags),
    project,
  };
}

export function runJson(r: Run): S.Run {
  return {
    run_id: r.info.runId,
    run_name: r.info.runName,
    experiment_id: r.info.experimentId,
    user_id: r.info.userId,
    status: r.info.status,
    start_time: r.info.startTime,
    end_time: r.info.endTime,
    artifact_uri: r.info.artifactUri,
    lifecycle_stage: r.info.lifecycleStage,
    params: tagsToMap(r.data.params),
    tags: tagsToMap(r.data.tags),
    metrics: Object.fromEntries(r.data.metrics.map((m: Metric) => [m.key, { value: jsonDouble(m.value), step: m.step, timestamp: m.timestamp }])),
    dataset_inputs: r.inputs.datasetInputs.map((d) => ({
      name: d.dataset.name,
      digest: d.dataset.digest,
      source_type: d.dataset.sourceType,
      source: d.dataset.source,
      schema: d.dataset.schema ?? null,
      profile: d.dataset.profile ?? null,
      tags: tagsToMap(d.tags),
    })),
  };
}
