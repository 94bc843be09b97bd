#!/usr/bin/env node
import { main } from '../dist/src/cli/main.js';

const code = await main(process.argv);
// `kiln server` keeps running; every other command exits with its code.
if (!(process.argv[2] === 'server' && code === 0)) process.exitCode = code;
