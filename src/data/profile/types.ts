/**
 * Shapes of profiles, schemas, validation reports and diffs: plain JSON, snake_case field names. They are the API's
 * shapes, declared once as schemas in ../schemas.ts; this module adds what the library needs at run time and has no
 * dependencies.
 */
import type { Anomaly, ValidationStatistics } from '../schemas.js';

export type { DataFormat } from '../formats.js';
export type {
  Anomaly,
  AnomalyType,
  ColumnDiff,
  ColumnProfile,
  ColumnType,
  DatasetProfile,
  DatasetSchema,
  NumberDelta,
  ProfileDiff,
  SchemaColumn,
  SourceSummary,
  ValidationStatistics,
  ValueCount,
} from '../schemas.js';

export { COLUMN_TYPES, QUANTILE_KEYS, type QuantileKey } from '../schemas.js';

export interface ValidationReport {
  ok: boolean;
  anomalies: Anomaly[];
  statistics: ValidationStatistics;
}
