#!/usr/bin/env node
import { main } from '../dist/src/cli/main.js';

const code = await main(process.argv);
// `kiln server` and `kiln serve` keep running; every other command exits with its code as soon as its output is
// written (an idle keep-alive connection of fetch would otherwise hold the process open for a moment).
if (!((process.argv[2] === 'server' || process.argv[2] === 'serve') && code === 0)) {
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}
