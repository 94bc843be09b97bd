/**
 * A metric history as columns, one entry per point: what the HTTP routes write their answers from, with no object
 * per point (MetricHistoryReader.pageColumns). The TrackingApi's MetricHistory, an object per point, is built from it.
 */
export interface MetricHistoryColumns {
  readonly key: string;
  readonly steps: Float64Array;
  readonly timestamps: Float64Array;
  /** NaN for a NaN point. */
  readonly values: Float64Array;
  readonly nextPageToken?: string;
  /** True when the points are a min/max downsample of a longer history. */
  readonly downsampled: boolean;
  /** Number of stored points in the requested range (downsampled histories). */
  readonly totalPoints?: number;
}
