import { tagsToMap } from '../platform/tags.js';
import type { ModelEvent, ModelVersion, RegisteredModel } from './types.js';
import type { PromotionOutcome, PromotionRequest } from './promotions.js';
import type * as S from './schemas.js';

/** Registry entities as the native API's JSON (snake_case; versions are integers). */

export function versionJson(v: ModelVersion): S.ModelVersion {
  return {
    name: v.name,
    version: Number(v.version),
    creation_time: v.creationTime,
    last_update_time: v.lastUpdateTime,
    user_id: v.userId,
    description: v.description,
    stage: v.currentStage,
    source: v.source,
    storage_location: v.storageLocation,
    run_id: v.runId,
    run_link: v.runLink,
    logged_model_id: v.loggedModelId,
    status: v.status,
    status_message: v.statusMessage,
    servable: v.servable,
    package: v.package,
    tags: tagsToMap(v.tags),
    aliases: [...v.aliases],
  };
}

export function modelJson(m: RegisteredModel): S.RegisteredModel {
  return {
    name: m.name,
    description: m.description,
    user_id: m.userId,
    creation_time: m.creationTime,
    last_update_time: m.lastUpdateTime,
    tags: tagsToMap(m.tags),
    aliases: Object.fromEntries(m.aliases.map((a) => [a.alias, Number(a.version)])),
    latest_versions: m.latestVersions.map(versionJson),
  };
}

export function eventJson(e: ModelEvent): S.ModelEvent {
  return { id: e.id, name: e.name, version: e.version === null ? null : Number(e.version), kind: e.kind, alias: e.alias, actor: e.actor, time: e.time, reason: e.reason, details: e.details };
}

export function outcomeJson(o: PromotionOutcome): S.PromotionOutcome {
  return {
    request_id: o.requestId,
    name: o.name,
    version: Number(o.version),
    alias: o.alias,
    status: o.status,
    champion_version: o.championVersion === null ? null : Number(o.championVersion),
    gates: o.gates.map((g) => ({ gate: g.gate, passed: g.passed, message: g.message, ...(g.details ? { details: g.details } : {}) })),
    message: o.message,
    dry_run: o.dryRun,
  };
}

export function requestJson(r: PromotionRequest): S.PromotionRequest {
  return {
    id: r.id,
    name: r.name,
    version: Number(r.version),
    alias: r.alias,
    status: r.status,
    requested_by: r.requestedBy,
    request_time: r.requestTime,
    decided_by: r.decidedBy,
    decision_time: r.decisionTime,
    reason: r.reason,
    gates: r.gates.map((g) => ({ gate: g.gate, passed: g.passed, message: g.message, ...(g.details ? { details: g.details } : {}) })),
  };
}
