import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Workspace packages export their TypeScript source under the "source" condition,
    // so tests never depend on a stale build.
    conditions: ['source'],
  },
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    include: [
      'services/*/src/**/*.test.ts',
      'services/*/test/**/*.test.ts',
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // `expect.poll` waits for an asynchronous effect (a homeserver call, a metric, a log line)
    // with this bound; vitest's 1 s default is too short on a loaded 2-core machine.
    expect: { poll: { timeout: 10_000, interval: 50 } },
  },
});
