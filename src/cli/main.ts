import { Command, CommanderError } from 'commander';
import { registerServerCommands } from './server.js';
import { MODULES } from '../modules.js';
import { VERSION } from '../version.js';
import { KilnApiError } from '@kiln-mlops/sdk/http';
import { isKilnError } from '../platform/errors.js';
import { CliExit } from './exit.js';

/** Exit codes: 0 ok, 1 error, 2 usage. */
export function buildProgram(): Command {
  const program = new Command();
  program
    .name('kiln')
    .description('Kiln: the open-source MLOps platform')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  registerServerCommands(program);
  // Each capability contributes its command groups.
  for (const m of MODULES) m.cli?.(program);
  program.commands.forEach(function applyExit(c: Command) {
    c.exitOverride();
    c.commands.forEach(applyExit);
  });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CliExit) return e.code;
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof KilnApiError) {
      process.stderr.write(`Error: ${e.message} (${e.code})\n`);
      return 1;
    }
    if (isKilnError(e)) {
      process.stderr.write(`Error: ${e.message}\n`);
      return 1;
    }
    const err = e as Error & { cause?: { code?: string } };
    if (err instanceof TypeError && err.message === 'fetch failed') {
      process.stderr.write(`Error: cannot reach the Kiln server (${err.cause?.code ?? 'connection failed'}). Is it running? Set --tracking-uri or KILN_TRACKING_URI.\n`);
      return 1;
    }
    process.stderr.write(`Error: ${err.message ?? String(e)}\n`);
    return 1;
  }
}
