import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each test file starts its own Tollgate on its own fresh database, so files run in parallel.
    pool: 'forks',
    // A worker runs file after file without reloading the modules: loading the server's modules
    // (oidc-provider, Prisma, PGlite) again for each file cost ~40% of the run. Nothing a test
    // file does outlives it: each starts and closes its own servers and databases.
    isolate: false,
    // One file more than there are CPUs: a file's server is mostly busy in its worker, but files
    // also wait on child processes, PostgreSQL and Chromium, and the extra file fills those gaps
    // (on 2 cores: 125 s instead of 140-175 s on the embedded store).
    maxWorkers: availableParallelism() + 1,
    // Migrates one database and generates one key set for the run; test servers copy them.
    globalSetup: ['test/global-setup.ts'],
    // Test clients never reuse a keep-alive connection the server may be closing (the file says why).
    setupFiles: ['test/setup/http-client.ts'],
    // Safety nets for a hang, not speed limits: on a machine busy with other work (`npm run test:busy`)
    // a test that takes 5 s on a quiet one took over 30 s.
    testTimeout: 90_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
