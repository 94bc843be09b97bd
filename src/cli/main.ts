import { Command, CommanderError, type Option } from 'commander';
import { registerServerCommands } from './server.js';
import { MODULES } from '../modules.js';
import type { Capability, CapabilityCli } from '../platform/capability.js';
import { VERSION } from '../version.js';
import { KilnApiError } from '@kiln-mlops/sdk/http';
import { isKilnError } from '../platform/errors.js';
import { CliExit } from './exit.js';
import { serverTarget, TrackingUriError } from './client.js';

/**
 * The program, with the commands `argv` needs: the server's, and of the capabilities' only the one whose command runs
 * (`kiln experiments list` imports the tracking capability's cli.ts, no other). Help for the whole tree (`kiln`,
 * `kiln --help`, `kiln help …`), an unknown command (for its suggestions) and no argv load every capability's
 * commands, so every help text is what the whole program would print. Exit codes: 0 ok, 1 error, 2 usage.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  const program = new Command();
  program
    .name('kiln')
    .description('Kiln: the open-source MLOps platform')
    .version(VERSION, '-V, --version')
    .showHelpAfterError('(add --help for usage)')
    .showSuggestionAfterError()
    .exitOverride();
  registerServerCommands(program);
  // Each capability contributes its command groups.
  const capabilities = capabilitiesFor(argv, program);
  const registers = await Promise.all(capabilities.map((m) => m.cli.load()));
  for (const [i, m] of capabilities.entries()) {
    const before = program.commands.length;
    registers[i]!(program);
    const added = program.commands.slice(before).map((c) => c.name());
    if (added.join(' ') !== m.cli.commands.join(' ')) throw new Error(`capability '${m.name}' declares the commands ${m.cli.commands.join(', ')} but its cli.ts adds ${added.join(', ')}`);
  }
  program.commands.forEach(function applyExit(c: Command) {
    c.exitOverride();
    checkRequiredAfterUnknown(c);
    c.commands.forEach(applyExit);
  });
  return program;
}

type WithCli = Capability & { readonly cli: CapabilityCli };

/**
 * The capabilities whose commands `argv` needs. The command is the first word after `kiln` that is not an option
 * (the program's own options, --help and --version, take no value): one of the server's needs none, a capability's
 * needs that capability; anything else needs them all.
 */
function capabilitiesFor(argv: readonly string[] | undefined, program: Command): WithCli[] {
  const all = MODULES.filter((m): m is WithCli => m.cli !== undefined);
  const name = argv?.slice(2).find((a) => !a.startsWith('-'));
  if (name === undefined) return all;
  if (program.commands.some((c) => c.name() === name)) return [];
  const owner = all.find((m) => m.cli.commands.includes(name));
  return owner ? [owner] : all;
}

/**
 * Commander reports a missing required option before an unknown one, so a misspelt required option
 * (`--experiments x` for `--experiment`) would be reported as missing instead of named. Required options are checked
 * here instead, after commander has refused unknown options (with a suggestion) and before the action runs.
 */
function checkRequiredAfterUnknown(cmd: Command): void {
  const required: Option[] = cmd.options.filter((o) => o.mandatory);
  if (required.length === 0) return;
  for (const o of required) o.mandatory = false;
  cmd.hook('preAction', (_self, action) => {
    if (action !== cmd) return;
    for (const o of required) {
      if (cmd.getOptionValue(o.attributeName()) === undefined) cmd.error(`error: required option '${o.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue' });
    }
  });
}

/** `kiln … | head`: once the reader has gone, the rest of the output has nowhere to go; end quietly. */
function quietOnClosedStdout(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

export async function main(argv: string[]): Promise<number> {
  quietOnClosedStdout();
  const program = await buildProgram(argv);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CliExit) return e.code;
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof TrackingUriError) {
      process.stderr.write(`Error: ${e.message}\n`);
      return 2;
    }
    if (e instanceof KilnApiError) {
      process.stderr.write(`Error: ${e.message} (${e.code})\n`);
      return 1;
    }
    if (isKilnError(e)) {
      process.stderr.write(`Error: ${e.message}\n`);
      return 1;
    }
    const err = e as Error & { cause?: { code?: string; message?: string } };
    if (err instanceof TypeError && err.message === 'fetch failed') {
      const why = err.cause?.code ?? err.cause?.message ?? 'connection failed';
      const at = serverTarget();
      process.stderr.write(`Error: cannot reach the Kiln server${at ? ` at ${at}` : ''} (${why}). Is it running? Set --tracking-uri or KILN_TRACKING_URI.\n`);
      return 1;
    }
    if (err instanceof Error && err.name === 'TimeoutError') {
      const at = serverTarget();
      process.stderr.write(`Error: the Kiln server${at ? ` at ${at}` : ''} did not answer in time.\n`);
      return 1;
    }
    process.stderr.write(`Error: ${err.message ?? String(e)}\n`);
    return 1;
  }
}
