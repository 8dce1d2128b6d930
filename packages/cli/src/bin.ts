#!/usr/bin/env node
import { runCli } from './main.ts';
import { processIo } from './io.ts';

// The installed `rtc-sidecars` (and `node dist/bin.js`): relative paths are the operator's
// current folder.
process.exitCode = await runCli(process.argv.slice(2), processIo());
