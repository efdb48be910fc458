import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two cores: more parallel forks only thrash the SQLite fsyncs and the parse workers.
    maxWorkers: 2,
    allowOnly: false,
  },
});
