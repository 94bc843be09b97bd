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

export const COLUMN_TYPES = ['integer', 'float', 'boolean', 'datetime', 'categorical', 'string'] as const;

/** The ranks reported in `quantiles`. */
export const QUANTILE_KEYS = ['0.01', '0.05', '0.25', '0.5', '0.75', '0.95', '0.99'] as const;
export type QuantileKey = (typeof QUANTILE_KEYS)[number];

export interface ValidationReport {
  ok: boolean;
  anomalies: Anomaly[];
  statistics: ValidationStatistics;
}
