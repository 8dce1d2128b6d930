// `pnpm bench [name…] [-- flags]`: runs every benchmark (each top-level bench/*.ts except this
// file) or only the named ones, one after another, each in its own process. Where taskset
// exists, the load generator is pinned to core 0; benchmarks pin the servers they start to
// core 1, so load and server never share a core.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.endsWith('.d.ts'))
  .map((f) => f.slice(0, -'.ts'.length))
  .sort();

const split = process.argv.indexOf('--');
const names = process.argv.slice(2, split === -1 ? undefined : split);
const flags = split === -1 ? [] : process.argv.slice(split + 1);
const unknown = names.filter((n) => !available.includes(n));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; available: ${available.join(', ')}`);
  process.exit(2);
}

let failed = 0;
for (const name of names.length > 0 ? names : available) {
  console.log(`\n=== bench: ${name}`);
  // `source`: workspace packages the scripts import resolve to their TypeScript, no build needed.
  const script = [process.execPath, '--conditions=source', join(here, `${name}.ts`), ...flags];
  const [cmd, ...args] = existsSync('/usr/bin/taskset')
    ? ['/usr/bin/taskset', '-c', '0', ...script]
    : script;
  const result = spawnSync(cmd ?? process.execPath, args, { stdio: 'inherit' });
  if (result.status !== 0) {
    failed++;
    console.log(`=== bench: ${name} exited with ${result.status ?? result.signal}`);
  }
}
process.exitCode = failed === 0 ? 0 : 1;
