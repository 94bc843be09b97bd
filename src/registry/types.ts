import type { KilnEvent } from '../platform/events/types.js';
import type { Tag } from '../platform/tags.js';
import type { ModelPackage } from './schemas.js';

import type { ModelVersionStatus, Stage } from '@kiln-mlops/sdk/contract/registry-types';

export { MODEL_VERSION_STATUSES, STAGES, type ModelVersionStatus, type Stage, type SearchInput } from '@kiln-mlops/sdk/contract/registry-types';

export interface ModelAlias {
  readonly alias: string;
  readonly version: string;
}

/** What inspecting a version's files found; stored with the version as JSON (see registry/packaging). */
export type { ModelPackage } from './schemas.js';

export interface ModelVersion {
  readonly name: string;
  /** A positive integer, as a string (MLflow's wire type). */
  readonly version: string;
  readonly creationTime: number;
  readonly lastUpdateTime: number;
  readonly userId: string | null;
  readonly currentStage: Stage;
  readonly description: string | null;
  readonly source: string;
  /** The source resolved to an artifact URI: where the files are. */
  readonly storageLocation: string;
  readonly runId: string | null;
  readonly runLink: string | null;
  /** The MLflow 3 logged model this version was registered from, if any. */
  readonly loggedModelId: string | null;
  readonly status: ModelVersionStatus;
  readonly statusMessage: string | null;
  /** Whether Kiln can serve it (an ONNX model that loaded and matches its signature). */
  readonly servable: boolean;
  readonly package: ModelPackage | null;
  readonly tags: readonly Tag[];
  readonly aliases: readonly string[];
}

export interface RegisteredModel {
  readonly name: string;
  readonly creationTime: number;
  readonly lastUpdateTime: number;
  readonly userId: string | null;
  readonly description: string | null;
  readonly tags: readonly Tag[];
  readonly aliases: readonly ModelAlias[];
  /** The latest version in each stage (MLflow's latest_versions). */
  readonly latestVersions: readonly ModelVersion[];
}

export const MODEL_EVENT_KINDS = [
  'model_created',
  'model_renamed',
  'version_created',
  'version_ready',
  'version_failed',
  'version_deleted',
  'stage_transitioned',
  'alias_set',
  'alias_deleted',
  'promotion_requested',
  'promotion_approved',
  'promotion_rejected',
  'policy_set',
] as const;
export type ModelEventKind = (typeof MODEL_EVENT_KINDS)[number];

/** One line of a registered model's history. */
export interface ModelEvent {
  readonly id: number;
  readonly name: string;
  readonly version: string | null;
  readonly kind: ModelEventKind;
  readonly alias: string | null;
  readonly actor: string;
  readonly time: number;
  readonly reason: string | null;
  readonly details: Readonly<Record<string, unknown>> | null;
}

export interface CreateModelInput {
  readonly name: string;
  readonly description?: string;
  readonly tags?: readonly Tag[];
  /** The project it belongs to (default: the default project). */
  readonly project?: string;
}

export interface CreateVersionInput {
  readonly name: string;
  readonly source: string;
  readonly runId?: string;
  readonly runLink?: string;
  readonly description?: string;
  readonly tags?: readonly Tag[];
  /** MLflow 3: the logged model being registered (its artifacts are the source). */
  readonly modelId?: string;
}

export type { Actor } from '../platform/actor.js';

/**
 * A registry event as the event log carries it (type `registry.<kind>`) and as webhooks send it: one line of a
 * model's history.
 */
export interface RegistryNotice {
  /** The history entry's id: unique and increasing. */
  readonly id: number;
  readonly kind: ModelEventKind;
  /** The registered model's name at the time of the event. */
  readonly model: string | null;
  readonly version: string | null;
  readonly alias: string | null;
  readonly actor: string;
  readonly time: number;
  readonly reason: string | null;
  readonly details: Readonly<Record<string, unknown>> | null;
}

export const REGISTRY_EVENT_PREFIX = 'registry.';

/** The registry notice an event of the log carries, or undefined when the event is not a registry event. */
export function registryNoticeOf(e: KilnEvent): RegistryNotice | undefined {
  if (!e.type.startsWith(REGISTRY_EVENT_PREFIX)) return undefined;
  const kind = e.type.slice(REGISTRY_EVENT_PREFIX.length);
  if (!(MODEL_EVENT_KINDS as readonly string[]).includes(kind)) return undefined;
  return e.data as unknown as RegistryNotice;
}
