/** Reading the payload log: pages by version, time range and request id; exports as JSON lines or Parquet; retention. */
import { parquetWriteBuffer } from 'hyparquet-writer';
import { decodePageTokenAs, encodePageToken, validateMaxResults, type Page } from '../platform/pagination.js';
import { invalid } from '../platform/errors.js';
import type { PayloadRecord } from '@kiln-mlops/sdk/contract/serving-schemas';
import type { Deployment } from './deployments.js';
import type { PayloadRow, ServingStore } from './store.js';

export interface PayloadFilter {
  readonly version?: number;
  readonly requestId?: string;
  readonly startTime?: number;
  readonly endTime?: number;
}

/** The most records one export holds (narrow the time range for more). */
export const EXPORT_LIMIT = 1_000_000;

export function payloadJson(r: PayloadRow): PayloadRecord {
  return {
    request_id: r.request_id,
    time: Number(r.time),
    model: r.model,
    version: Number(r.version),
    protocol: r.protocol,
    status: Number(r.status),
    latency_ms: Number(r.latency_ms),
    inputs: JSON.parse(r.request) as unknown[],
    outputs: r.response === null ? null : (JSON.parse(r.response) as unknown[]),
    error: r.error,
    shadow: r.shadow_version === null ? null : { version: Number(r.shadow_version), outputs: r.shadow_response === null ? null : (JSON.parse(r.shadow_response) as unknown[]), agrees: r.shadow_agrees === null ? null : Number(r.shadow_agrees) === 1 },
  };
}

export class PayloadService {
  constructor(
    private readonly store: ServingStore,
    private readonly now: () => number,
  ) {}

  async page(d: Deployment, q: PayloadFilter & { maxResults?: number; pageToken?: string }): Promise<Page<PayloadRecord>> {
    const limit = validateMaxResults(q.maxResults, 100, 1000);
    const after = decodePageTokenAs(q.pageToken, { before: 'integer' })?.before;
    const rows = await this.store.payloads(d.id, { ...q, ...(after !== undefined ? { afterPk: after } : {}), limit: limit + 1 });
    const items = rows.slice(0, limit).map(payloadJson);
    return { items, ...(rows.length > limit ? { nextPageToken: encodePageToken({ before: Number(rows[limit - 1]!.payload_pk) }) } : {}) };
  }

  /** Every matching record, newest first, as JSON lines or a Parquet file (inputs and outputs as JSON columns). */
  async export(d: Deployment, q: PayloadFilter, format: 'jsonl' | 'parquet'): Promise<Buffer> {
    const rows: PayloadRow[] = [];
    let after: number | undefined;
    for (;;) {
      const chunk = await this.store.payloads(d.id, { ...q, ...(after !== undefined ? { afterPk: after } : {}), limit: 5000 });
      rows.push(...chunk);
      if (rows.length > EXPORT_LIMIT) throw invalid(`More than ${EXPORT_LIMIT} payload records match: narrow the export with start_time and end_time.`);
      if (chunk.length < 5000) break;
      after = Number(chunk[chunk.length - 1]!.payload_pk);
    }
    if (format === 'jsonl') return Buffer.from(rows.map((r) => JSON.stringify({ deployment: d.name, ...payloadJson(r) })).join('\n') + (rows.length > 0 ? '\n' : ''));
    const col = <T>(f: (r: PayloadRow) => T) => rows.map(f);
    const ab = parquetWriteBuffer({
      columnData: [
        { name: 'deployment', data: col(() => d.name), type: 'STRING' },
        { name: 'request_id', data: col((r) => r.request_id), type: 'STRING' },
        { name: 'time', data: col((r) => BigInt(r.time)), type: 'TIMESTAMP' },
        { name: 'model', data: col((r) => r.model), type: 'STRING' },
        { name: 'version', data: col((r) => Number(r.version)), type: 'INT32' },
        { name: 'protocol', data: col((r) => r.protocol), type: 'STRING' },
        { name: 'status', data: col((r) => Number(r.status)), type: 'INT32' },
        { name: 'latency_ms', data: col((r) => Number(r.latency_ms)), type: 'DOUBLE' },
        { name: 'inputs', data: col((r) => r.request), type: 'STRING' },
        { name: 'outputs', data: col((r) => r.response), type: 'STRING' },
        { name: 'error', data: col((r) => r.error), type: 'STRING' },
        { name: 'shadow_version', data: col((r) => (r.shadow_version === null ? null : Number(r.shadow_version))), type: 'INT32' },
        { name: 'shadow_outputs', data: col((r) => r.shadow_response), type: 'STRING' },
        { name: 'shadow_agrees', data: col((r) => (r.shadow_agrees === null ? null : Number(r.shadow_agrees) === 1)), type: 'BOOLEAN' },
      ],
    });
    return Buffer.from(ab);
  }

  /** Enforces retention: records older than `days` (0: no age limit) and beyond `maxRows` per deployment (0: none). */
  async prune(days: number, maxRows: number): Promise<number> {
    const before = days > 0 ? this.now() - days * 86_400_000 : 0;
    return this.store.prunePayloads(before, maxRows > 0 ? maxRows : Number.MAX_SAFE_INTEGER);
  }
}
