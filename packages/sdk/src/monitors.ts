import type { HttpClient } from './http.js';
import type { Page } from './contract/page.js';
import type { Alert, CreateMonitorBody, LabelsResult, Monitor, RecordsResult, Report, UpdateMonitorBody, WindowSummary } from './contract/monitoring-schemas.js';

const enc = encodeURIComponent;

const TYPES: Record<string, string> = {
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  jsonl: 'application/x-ndjson',
  ndjson: 'application/x-ndjson',
  json: 'application/json',
  parquet: 'application/vnd.apache.parquet',
};

/** Monitors (under /api/v1/monitors): drift on binned profiles, delayed labels, realized performance, alerts. */
export class MonitorsClient {
  constructor(private readonly http: HttpClient) {}

  private api<T = unknown>(method: string, path: string, body?: unknown, query?: Record<string, unknown>): Promise<T> {
    return this.http.json<T>(method, `/api/v1${path}`, body, query);
  }

  async list(input: { maxResults?: number; pageToken?: string; project?: string } = {}): Promise<Page<Monitor>> {
    const r = await this.api<{ monitors: Monitor[]; next_page_token?: string }>('GET', '/monitors', undefined, { max_results: input.maxResults, page_token: input.pageToken, project: input.project });
    return { items: r.monitors, nextPageToken: r.next_page_token };
  }

  /** Creates a monitor: `{ name, reference: 'weather@v1', window: '1d', time_column: 'date' }`, or `{ name, deployment }`. */
  async create(input: CreateMonitorBody): Promise<Monitor> {
    return (await this.api<{ monitor: Monitor }>('POST', '/monitors', input)).monitor;
  }

  async get(name: string): Promise<Monitor> {
    return (await this.api<{ monitor: Monitor }>('GET', `/monitors/${enc(name)}`)).monitor;
  }

  async update(name: string, change: UpdateMonitorBody): Promise<Monitor> {
    return (await this.api<{ monitor: Monitor }>('PATCH', `/monitors/${enc(name)}`, change)).monitor;
  }

  async delete(name: string): Promise<void> {
    await this.api('DELETE', `/monitors/${enc(name)}`);
  }

  /** Logs predictions as JSON objects (features, predictions, optional request_id, label and time column). */
  async log(name: string, records: readonly Record<string, unknown>[]): Promise<RecordsResult> {
    return this.api<RecordsResult>('POST', `/monitors/${enc(name)}/records`, { records });
  }

  /** Logs the rows of a local file (CSV, TSV, JSON lines, parquet), streamed. */
  async logFile(name: string, path: string, format?: 'csv' | 'tsv' | 'jsonl' | 'parquet'): Promise<RecordsResult> {
    const ext = format ?? (/\.([A-Za-z]+)$/.exec(path)?.[1]?.toLowerCase() as string | undefined) ?? '';
    const type = TYPES[ext];
    if (!type || type === 'application/json') throw new Error(`${path}: say the format (csv, tsv, jsonl or parquet); the name does not tell`);
    return this.http.uploadFile<RecordsResult>('POST', `/api/v1/monitors/${enc(name)}/records`, path, type);
  }

  /** Sends delayed labels `[{request_id, label}]`; the last label of a request id wins. */
  async labels(name: string, labels: readonly { request_id: string; label: string | number | boolean }[]): Promise<LabelsResult> {
    return this.api<LabelsResult>('POST', `/monitors/${enc(name)}/labels`, { labels });
  }

  /** One report merged over the windows in the range (ISO dates; `to` alone as a date means the end of that day). */
  async report(name: string, range: { from?: string; to?: string } = {}): Promise<Report> {
    return this.api<Report>('GET', `/monitors/${enc(name)}/report`, undefined, { from: range.from, to: range.to });
  }

  async windows(name: string, opts: { from?: string; to?: string; limit?: number; compare?: 'reference' | 'previous' } = {}): Promise<WindowSummary[]> {
    return (await this.api<{ windows: WindowSummary[] }>('GET', `/monitors/${enc(name)}/windows`, undefined, opts)).windows;
  }

  /** One window's report with histograms. */
  async window(name: string, start: number, compare?: 'reference' | 'previous'): Promise<Report> {
    return this.api<Report>('GET', `/monitors/${enc(name)}/windows/${start}`, undefined, { compare });
  }

  async alerts(name: string, maxResults?: number): Promise<Alert[]> {
    return (await this.api<{ alerts: Alert[] }>('GET', `/monitors/${enc(name)}/alerts`, undefined, { max_results: maxResults })).alerts;
  }

  /** Evaluates the alert rules now; returns the alert history. */
  async evaluate(name: string): Promise<Alert[]> {
    return (await this.api<{ alerts: Alert[] }>('POST', `/monitors/${enc(name)}/evaluate`)).alerts;
  }
}
