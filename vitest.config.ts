import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests spawn git and child processes; two cores are all CI has.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 3, minForks: 1 } },
  },
});
