import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { processIo } from './io.ts';
import { runCli } from './main.ts';

// `pnpm rtc-sidecars …` in a checkout (the root package.json script). pnpm runs scripts in the
// workspace root, so the operator's own folder is INIT_CWD, which pnpm sets; only this entry
// reads it (the installed binary never does: an outer npm script would leak its own INIT_CWD).
const checkout = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
const cwd = process.env.INIT_CWD ?? process.cwd();
process.exitCode = await runCli(
  process.argv.slice(2),
  processIo(cwd, `pnpm --dir ${checkout} rtc-sidecars`),
);
