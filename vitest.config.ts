import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // One file at a time: the integration and end-to-end suites start real servers and drive
    // load on loopback, and the rehearsal gates on latency; on a 2-core CI runner, two such files
    // at once would measure each other. Unit files are fast, so this costs little.
    fileParallelism: false,
  },
});
