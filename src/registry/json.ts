import { tagsToMap } from '../tracking/json.js';
import type { ModelEvent, ModelVersion, RegisteredModel } from './types.js';

/** The native API's registry JSON (snake_case; versions are integers), shared by routes, CLI --json and the SDK. */

export function versionJson(v: ModelVersion) {
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

export function modelJson(m: RegisteredModel) {
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

export function eventJson(e: ModelEvent) {
  return { id: e.id, name: e.name, version: e.version === null ? null : Number(e.version), kind: e.kind, alias: e.alias, actor: e.actor, time: e.time, reason: e.reason, details: e.details };
}
