import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { freePort, httpReady, repoRoot, startProcess } from '@rtc-sidecars/test-harness';
import { afterAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';

import { interpolateDeep } from '../src/check/interpolate.ts';
import { type Parsed, removeDir, tempDir } from './cli-harness.ts';

// There is no Docker engine in CI, so this test runs the build stage of docker/service.Dockerfile
// natively: the RUN lines marked "# step:" (build, then `pnpm deploy --prod`), then the runtime
// stage's COPYs (package.json, node_modules, dist and the healthcheck script only), and starts
// the result with the environment compose.yaml gives the container.

const ROOT = repoRoot;
const dockerfile = readFileSync(join(ROOT, 'docker/service.Dockerfile'), 'utf8');
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) removeDir(dir);
});

/** The build-stage commands marked `# step:`, for one service, writing to `out`. */
function buildSteps(service: string, out: string): string[] {
  const lines = dockerfile.split('\n');
  const steps: string[] = [];
  lines.forEach((line, i) => {
    const next = lines[i + 1];
    if (line.startsWith('# step:') && next?.startsWith('RUN ')) {
      steps.push(
        next
          .slice(4)
          .replaceAll('${SERVICE}', service)
          .replace(/ \/out$/, ` ${out}`),
      );
    }
  });
  return steps;
}

/** The container environment compose.yaml gives `service`, with a test .env. */
function composeEnvironment(service: string): Record<string, string> {
  const env = {
    SERVER_NAME: 'hi.example.org',
    LIVEKIT_KEY: 'APItestkey0123456789abcdef012345',
    LIVEKIT_SECRET: 'test-secret-0123456789-0123456789-0123456789',
  };
  const compose = interpolateDeep(
    YAML.parse(readFileSync(join(ROOT, 'docker/compose.yaml'), 'utf8'), { merge: true }),
    env,
  ) as Parsed;
  return compose.services[service].environment as Record<string, string>;
}

/** The runtime stage's `ENV NODE_OPTIONS="…"`: the node flags the container runs with. */
function imageNodeOptions(): string {
  const m = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(dockerfile);
  if (m?.[1] === undefined) throw new Error('docker/service.Dockerfile sets no NODE_OPTIONS');
  return m[1];
}

/** The node flags of a service's `start:dist` script (`node <flags> dist/server.js`). */
function startDistFlags(service: string): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'services', service, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const m = /^node (.*) dist\/server\.js$/.exec(pkg.scripts['start:dist'] ?? '');
  return m?.[1] ?? '';
}

function run(command: string): void {
  const result = spawnSync('sh', ['-c', command], { cwd: ROOT, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`"${command}" exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  }
}

function healthcheck(app: string, env: Record<string, string>): number | null {
  return spawnSync(process.execPath, [join(app, 'healthcheck.mjs')], {
    env: { ...env, PATH: process.env.PATH },
  }).status;
}

describe.each([
  ['well-known', 'WELL_KNOWN_BIND'],
  ['livekit-jwt', 'LIVEKIT_JWT_BIND'],
])('service image %s', (service, bindVariable) => {
  it('should run with the same node flags as its start:dist script', () => {
    expect(imageNodeOptions()).not.toBe('');
    expect(startDistFlags(service)).toBe(imageNodeOptions());
  });

  it(
    'should build, deploy production dependencies only, start and pass its healthcheck',
    { timeout: 240_000 },
    async () => {
      const work = tempDir('rtc-image-');
      dirs.push(work);
      const out = join(work, 'out');
      const steps = buildSteps(service, out);
      expect(steps).toEqual([
        `pnpm --filter-prod "@rtc-sidecars/${service}..." run build`,
        `pnpm --filter "@rtc-sidecars/${service}" deploy --prod ${out}`,
      ]);
      for (const step of steps) run(step);

      // Runtime stage: only these four paths reach the image.
      const app = join(work, 'app');
      mkdirSync(app);
      for (const entry of ['package.json', 'node_modules', 'dist']) {
        cpSync(join(out, entry), join(app, entry), { recursive: true, verbatimSymlinks: true });
      }
      cpSync(join(ROOT, 'docker/healthcheck.mjs'), join(app, 'healthcheck.mjs'));
      const store = readdirSync(join(app, 'node_modules/.pnpm'));
      expect(store.some((p) => p.startsWith('typescript@'))).toBe(false);
      expect(store.some((p) => p.startsWith('vitest@'))).toBe(false);
      expect(existsSync(join(app, 'dist/server.js'))).toBe(true);
      // The entry is the esbuild bundle (workspace packages and npm dependencies inside): a
      // copy of that one file, with no node_modules beside it, starts as well (below).
      const alone = join(work, 'alone');
      mkdirSync(alone);
      cpSync(join(app, 'dist/server.js'), join(alone, 'server.js'));

      const port = await freePort();
      const env = {
        ...composeEnvironment(service),
        [bindVariable]: `127.0.0.1:${port}`,
        NODE_ENV: 'production',
        // As the image sets it: the service and its healthcheck both start with these flags.
        NODE_OPTIONS: imageNodeOptions(),
      };
      const proc = await startProcess(process.execPath, [join(app, 'dist/server.js')], {
        cwd: app,
        env,
        ready: () => httpReady(`http://127.0.0.1:${port}/healthz`),
        readyTimeoutMs: 15_000,
      });
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        expect(res.status).toBe(200);
        expect(healthcheck(app, env)).toBe(0);
      } finally {
        await proc.stop();
      }
      expect(healthcheck(app, env)).toBe(1);

      const bundle = await startProcess(process.execPath, [join(alone, 'server.js')], {
        cwd: alone,
        env,
        ready: () => httpReady(`http://127.0.0.1:${port}/healthz`),
        readyTimeoutMs: 15_000,
      });
      expect(await bundle.stop()).toBe(0);
    },
  );
});
