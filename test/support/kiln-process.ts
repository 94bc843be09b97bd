import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(process.cwd(), 'bin', 'kiln.js');

export interface KilnProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Starts `kiln server` (or `kiln serve`, a serving-only replica) as a separate process (extra flags appended) and
 * resolves with its URL once it listens.
 */
export function startKilnProcess(store: string, artifacts: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}, command: 'server' | 'serve' = 'server'): Promise<KilnProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, command, '--port', '0', '--store', store, '--artifacts', artifacts, '--log-level', 'warn', ...extra], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...env },
    });
    let err = '';
    // Generous: a loaded 2-core machine takes its time to load the server.
    const timer = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 90_000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${err}`));
    };
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve({
          child,
          url: m[1]!,
          stop: () => {
            if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
            const done = new Promise<void>((r) => child.once('exit', () => r()));
            child.kill('SIGTERM');
            return done;
          },
        });
      }
    });
    child.on('exit', onExit);
  });
}
