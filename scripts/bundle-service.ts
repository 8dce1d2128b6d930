// `node ../../scripts/bundle-service.ts`, run by a service's build script after tsc: bundles the
// service's entry (src/server.ts) and everything it imports, workspace packages and npm
// dependencies alike, into one ES module, dist/server.js, which start:dist and the image run.
// One file instead of hundreds of modules: less to resolve, read and compile at start-up, and
// less memory for module records and source text (bench/README.md has the measurements).
import { createRequire } from 'node:module';
import { join } from 'node:path';

// esbuild is a dev dependency of each service (the image installs only the service's), so it
// is resolved from the service being built rather than from this folder (so are no types).
const { build } = createRequire(join(process.cwd(), 'package.json'))('esbuild') as {
  build: (options: Record<string, unknown>) => Promise<unknown>;
};

await build({
  entryPoints: ['src/server.ts'],
  outfile: 'dist/server.js',
  // tsc has just written dist/server.js for the package's own exports; the bundle replaces it.
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  // Workspace packages from their TypeScript sources, as the tests run them.
  conditions: ['source'],
  // Bundled CommonJS dependencies still call require() for Node's built-in modules.
  banner: {
    js: "import { createRequire as bundleRequire } from 'node:module'; const require = bundleRequire(import.meta.url);",
  },
  // Half the source text V8 keeps in memory; names stay (error and class names reach logs).
  minify: true,
  keepNames: true,
  // Replaces tsc's map of dist/server.js (read by tools, or by node --enable-source-maps).
  sourcemap: 'linked',
  // Licence comments of the bundled dependencies go to dist/server.js.LEGAL.txt.
  legalComments: 'linked',
  logLevel: 'warning',
});
