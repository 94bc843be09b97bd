import type { Page } from '../platform/pagination.js';

export type { Page };
/** What the data capability offers other capabilities and clients: plain shapes, no HTTP. */
import type { DataFormat, DatasetProfile, DatasetSchema, ProfileDiff, ValidationReport } from './profile/index.js';
import type { ManifestEntry } from './manifest.js';

export type { ManifestEntry } from './manifest.js';

export interface Dataset {
  readonly name: string;
  /** The newest version's description. */
  readonly description: string | null;
  readonly userId: string | null;
  readonly creationTime: number;
  readonly lastUpdateTime: number;
  /** Newest version number, null when the dataset has no version (never, in practice: a dataset is created with its first version). */
  readonly latestVersion: number | null;
  readonly versionCount: number;
}

export interface DatasetVersion {
  readonly name: string;
  readonly version: number;
  /** SHA-256 (hex) of the content: of the single file, or of the canonical manifest of several files. */
  readonly digest: string;
  /** The first 36 characters of digest: what an MLflow dataset input carries. */
  readonly mlflowDigest: string;
  readonly format: DataFormat;
  readonly rows: number;
  readonly bytes: number;
  readonly files: readonly ManifestEntry[];
  readonly source: string | null;
  readonly description: string | null;
  readonly userId: string | null;
  readonly creationTime: number;
}

/** A version with its inferred schema and its profile (statistics per column). */
export interface DatasetVersionDetail extends DatasetVersion {
  readonly schema: DatasetSchema;
  readonly profile: DatasetProfile;
}

export interface AddVersionInput {
  readonly files: readonly ManifestEntry[];
  /** Where the data came from (a path, a URL); free text. */
  readonly source?: string;
  readonly description?: string;
}

export interface AddVersionResult {
  /** False when a version of this dataset already had this digest: that version is returned and nothing is stored. */
  readonly created: boolean;
  readonly version: DatasetVersionDetail;
}

export interface ValidateInput {
  /** A schema (user-edited JSON, checked by parseSchema), or… */
  readonly schema?: unknown;
  /** …a reference to the version whose inferred schema to use, e.g. weather@v1. */
  readonly schemaRef?: string;
  /** Names an inline schema in the history (e.g. its file name); default "inline". */
  readonly schemaLabel?: string;
  /** Reference of the profile to compare against for drift; default the schemaRef version when one is given. */
  readonly baseline?: string;
  /** Jensen–Shannon divergence above which a column has drifted (default 0.1). */
  readonly jsThreshold?: number;
}

export interface ValidationRecord {
  readonly id: number;
  readonly name: string;
  readonly version: number;
  readonly schemaRef: string;
  readonly baseline: string | null;
  readonly jsThreshold: number;
  readonly ok: boolean;
  readonly errors: number;
  readonly warnings: number;
  readonly report: ValidationReport;
  readonly schema: DatasetSchema;
  readonly userId: string | null;
  readonly creationTime: number;
}

export interface VersionDiff {
  readonly a: DatasetVersion;
  readonly b: DatasetVersion;
  readonly diff: ProfileDiff;
}

