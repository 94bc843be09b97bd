// CLI startup benchmark: how long `kiln` takes from spawn to exit for help and for a client command, against an
// unreachable server and against a running one (started here). Prints one JSON document.
//
//   npm run bench:cli
//   KILN_BENCH_REPEAT=5 npm run bench:cli
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tempDir } from '../../test/support/backends.js';
import { machine, median, p95, round, startServer } from '../support.js';

const BIN = join(process.cwd(), 'bin', 'kiln.js');
const REPEAT = Number(process.env.KILN_BENCH_REPEAT ?? 15);

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

function measure(args: string[], script: string[] = [BIN]) {
  let code: number | null = null;
  spawnSync(process.execPath, [...script, ...args], { stdio: 'ignore' }); // warm the file cache
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const c0 = childrenCpuMs();
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [...script, ...args], { stdio: 'ignore' });
    times.push(performance.now() - t0);
    cpu.push(childrenCpuMs() - c0);
    code = r.status;
  }
  return { median_ms: round(median(times)), p95_ms: round(p95(times)), median_cpu_ms: round(median(cpu)), exit_code: code };
}

async function main() {
  const out: Record<string, unknown> = { machine: machine(), repeat: REPEAT };
  // What starting Node alone costs on this machine (the floor under every figure below).
  out.node_alone = measure(['0'], ['-e']);
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
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

await main();
