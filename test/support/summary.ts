import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { TestEvent } from 'node:test/reporters';

/**
 * The end-of-run summary of `npm test`. scripts/run-tests.mjs gives the test runner this module as a second reporter
 * (beside spec or tap on the terminal), writing to a file; after the runner exits it reads the file back with
 * readReport() and prints formatSummary().
 */

const COUNTS = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo'] as const;
type Count = (typeof COUNTS)[number];

export interface ReportedTest {
  readonly name: string;
  readonly file: string | undefined;
  readonly suite: boolean;
  readonly reason: string;
}

type Line = { kind: 'skip' | 'fail'; test: ReportedTest } | { kind: 'count'; name: Count; value: number };

export interface RunReport {
  /** The runner's own closing counts; empty when it ended without them. */
  readonly counts: Partial<Record<Count, number>>;
  /** Every skipped test or suite (the runner's own count leaves skipped suites out). */
  readonly skipped: readonly ReportedTest[];
  readonly failed: readonly ReportedTest[];
}

function firstLine(s: string): string {
  const line = s.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** The reporter: one JSON line per skipped or failed test and per closing count. */
export default async function* summaryReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string, void> {
  for await (const event of source) {
    let line: Line | undefined;
    if (event.type === 'test:pass' && event.data.skip !== undefined && event.data.skip !== false) {
      const { name, file, skip, details } = event.data;
      line = { kind: 'skip', test: { name, file, suite: details.type === 'suite', reason: skip === true ? 'no reason given' : skip } };
    } else if (event.type === 'test:fail' && !event.data.todo) {
      const { name, file, details } = event.data;
      const error = details.error as Error & { failureType?: string; cause?: unknown };
      // A suite that failed because of its tests would only repeat them.
      if (error.failureType !== 'subtestsFailed') {
        const cause = error.cause instanceof Error ? error.cause.message : error.cause !== undefined ? String(error.cause) : error.message;
        line = { kind: 'fail', test: { name, file, suite: details.type === 'suite', reason: firstLine(cause) } };
      }
    } else if (event.type === 'test:diagnostic' && event.data.nesting === 0 && event.data.file === undefined) {
      const m = /^(\w+) (\d+)$/.exec(event.data.message);
      if (m && (COUNTS as readonly string[]).includes(m[1] ?? '')) line = { kind: 'count', name: m[1] as Count, value: Number(m[2]) };
    }
    if (line) yield `${JSON.stringify(line)}\n`;
  }
}

export function readReport(file: string): RunReport {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // the runner died before the reporter wrote anything
  }
  const counts: Partial<Record<Count, number>> = {};
  const skipped: ReportedTest[] = [];
  const failed: ReportedTest[] = [];
  for (const raw of text.split('\n')) {
    if (!raw) continue;
    const line = JSON.parse(raw) as Line;
    if (line.kind === 'count') counts[line.name] = line.value;
    else (line.kind === 'skip' ? skipped : failed).push(line.test);
  }
  return { counts, skipped, failed };
}

function describeTest(t: ReportedTest): string {
  return `${t.suite ? 'suite ' : ''}${t.name}${t.file ? ` [${relative(process.cwd(), t.file)}]` : ''}`;
}

/**
 * The summary: each service as the run had it, every skipped test or suite with its reason, the failures, the alerts
 * (services that could not be had, broken requirements), and a closing 'tests: N passed, N failed, N skipped' line.
 */
export function formatSummary(services: readonly string[], alerts: readonly string[], report: RunReport, exitCode: number): string {
  const out: string[] = ['', '── test summary ──', ...services];
  if (report.skipped.length > 0) {
    out.push(`skipped (${report.skipped.length}):`);
    const byReason = new Map<string, ReportedTest[]>();
    for (const t of report.skipped) byReason.set(t.reason, [...(byReason.get(t.reason) ?? []), t]);
    for (const [reason, tests] of byReason) out.push(`  ${reason}:`, ...tests.map((t) => `    - ${describeTest(t)}`));
  }
  if (report.failed.length > 0) {
    const shown = report.failed.slice(0, 30);
    out.push(`failed (${report.failed.length}):`, ...shown.map((t) => `  - ${describeTest(t)}: ${t.reason}`));
    if (report.failed.length > shown.length) out.push(`  … and ${report.failed.length - shown.length} more (see above)`);
  }
  for (const a of alerts) out.push(`!! ${a}`);
  const { pass, fail, cancelled } = report.counts;
  if (pass === undefined || fail === undefined) {
    out.push(`tests: the test runner ended without its counts (exit code ${exitCode})`);
  } else {
    out.push(`tests: ${pass} passed, ${fail + (cancelled ?? 0)} failed, ${report.skipped.length} skipped`);
  }
  return out.join('\n');
}
