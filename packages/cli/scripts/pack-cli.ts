// Builds the installable rtc-sidecars CLI: one ES module file with every dependency, the
// docker/ templates and the version inside, packed as an npm tarball without dependencies.
//
//   node packages/cli/scripts/pack-cli.ts [--out DIR]     (prints the tarball's path)
//
// Then, on any machine with Node 24:  npm install -g ./rtc-sidecars-cli-<version>.tgz
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { build } from 'esbuild';

import { TEMPLATE_FILES } from '../src/deployment/templates.ts';

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = resolve(CLI, '../..');

interface CliPackage {
  readonly name: string;
  readonly version: string;
  readonly description: string;
}

/** Bundles the CLI into `stage/rtc-sidecars.mjs` and writes the package.json beside it. */
export async function stagePackage(stage: string): Promise<CliPackage> {
  const pkg = JSON.parse(readFileSync(join(CLI, 'package.json'), 'utf8')) as CliPackage;
  const templates = Object.fromEntries(
    TEMPLATE_FILES.map((name) => [name, readFileSync(join(ROOT, 'docker', name), 'utf8')]),
  );
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  await build({
    entryPoints: [join(CLI, 'src', 'bin.ts')],
    outfile: join(stage, 'rtc-sidecars.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    // The workspace packages are read from their TypeScript sources, as in development.
    conditions: ['source'],
    define: { RTC_SIDECARS_EMBEDDED: JSON.stringify({ version: pkg.version, templates }) },
    // CommonJS dependencies bundled into an ES module still call require() for node: built-ins.
    banner: {
      // bin.ts keeps its own #! line first.
      js: "import { createRequire as __rtcRequire } from 'node:module';\nconst require = __rtcRequire(import.meta.url);",
    },
    legalComments: 'eof',
    logLevel: 'warning',
  });
  const manifest = {
    name: pkg.name,
    version: pkg.version,
    description: pkg.description,
    license: 'Apache-2.0',
    type: 'module',
    bin: { 'rtc-sidecars': './rtc-sidecars.mjs' },
    engines: { node: '>=22.12' },
    files: ['rtc-sidecars.mjs', 'README.md'],
  };
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  copyFileSync(join(CLI, 'README.md'), join(stage, 'README.md'));
  return pkg;
}

/** Bundles and packs the CLI into `outDir`; returns the tarball's path. */
export async function packCli(outDir: string): Promise<string> {
  const stage = join(CLI, 'dist', 'package');
  await stagePackage(stage);
  mkdirSync(outDir, { recursive: true });
  const output = execFileSync(
    'npm',
    ['pack', stage, '--pack-destination', outDir, '--json', '--offline', '--silent'],
    { encoding: 'utf8' },
  );
  const [info] = JSON.parse(output) as { filename: string }[];
  if (info === undefined) throw new Error('npm pack wrote nothing');
  return join(outDir, info.filename);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const tarball = await packCli(resolve(values.out ?? join(CLI, 'dist')));
  process.stdout.write(`${tarball}\n`);
}
