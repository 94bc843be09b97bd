// CLI startup benchmark: how long `kiln` takes from spawn to exit for help and for a client command, against an
// unreachable server and against a running one (started here). Prints one JSON document.
//
//   npm run bench:cli
//   KILN_BENCH_REPEAT=5 npm run bench:cli
//   KILN_BENCH_AGAINST=../kiln-0.1.0,../kiln-main npm run bench:cli   # other built checkouts, alternated with this one
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../../test/support/backends.js';
import { machine, median, p95, round, startServer } from '../support.js';

const REPEAT = Number(process.env.KILN_BENCH_REPEAT ?? 15);
/**
 * The builds measured: this checkout, and every checkout named in KILN_BENCH_AGAINST (built, with its node_modules).
 * Each repetition runs each build once in turn, so a change of the machine's load reaches all of them alike.
 */
const BUILDS = [
  { label: 'this', bin: join(process.cwd(), 'bin', 'kiln.js') },
  ...(process.env.KILN_BENCH_AGAINST ?? '')
    .split(',')
    .filter((d) => d.trim() !== '')
    .map((d) => ({ label: d.trim(), bin: join(resolve(d.trim()), 'bin', 'kiln.js') })),
];

/**
 * CPU time (user + system, ms) of this process's waited-for children so far (Linux: /proc/self/stat, in clock
 * ticks of 10 ms). Wall time depends on what else the machine runs; CPU time much less.
 */
function childrenCpuMs(): number {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
    // After the command name: field 3 is state, so cutime (16) and cstime (17) sit at indices 13 and 14.
    return (Number(fields[13]) + Number(fields[14])) * 10;
  } catch {
    return NaN;
  }
}

/** Runs `node <script> <args>` REPEAT times for each script, alternating; the figures of each. */
function measureEach(args: string[], scripts: string[][]) {
  const runs = scripts.map(() => ({ times: [] as number[], cpu: [] as number[], code: null as number | null }));
  for (const script of scripts) spawnSync(process.execPath, [...script, ...args], { stdio: 'ignore' }); // warm the file cache
  for (let i = 0; i < REPEAT; i++) {
    scripts.forEach((script, k) => {
      const c0 = childrenCpuMs();
      const t0 = performance.now();
      const r = spawnSync(process.execPath, [...script, ...args], { stdio: 'ignore' });
      runs[k]!.times.push(performance.now() - t0);
      runs[k]!.cpu.push(childrenCpuMs() - c0);
      runs[k]!.code = r.status;
    });
  }
  return runs.map((r) => ({ median_ms: round(median(r.times)), p95_ms: round(p95(r.times)), median_cpu_ms: round(median(r.cpu)), exit_code: r.code }));
}

/** A `kiln` command's figures: one build's, or by build label when others are compared. */
function measure(args: string[]) {
  const figures = measureEach(args, BUILDS.map((b) => [b.bin]));
  return BUILDS.length === 1 ? figures[0] : Object.fromEntries(BUILDS.map((b, k) => [b.label, figures[k]]));
}

async function main() {
  const out: Record<string, unknown> = { machine: machine(), repeat: REPEAT, builds: BUILDS.map((b) => b.label) };
  // What starting Node alone costs on this machine (the floor under every figure below).
  out.node_alone = measureEach(['0'], [['-e']])[0];
  out.load_average = loadavg().map((x) => round(x));
  out.commands = {
    help: measure(['--help']),
    runs_help: measure(['runs', '--help']),
    experiments_list_unreachable: measure(['experiments', 'list', '--tracking-uri', 'http://127.0.0.1:9']),
  } as Record<string, unknown>;
  const dir = tempDir('kiln-bench-cli-');
  const { child, url } = await startServer(`sqlite:///${join(dir, 'kiln.db')}`, pathToFileURL(join(dir, 'artifacts')).href);
  try {
    (out.commands as Record<string, unknown>).experiments_list_running = measure(['experiments', 'list', '--tracking-uri', url]);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
  out.load_average_end = loadavg().map((x) => round(x));
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

await main();
