import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Collects the rows of what the reliability tests tried and prints them as one table at the end.
    globalSetup: ['test/support/trial-summary-setup.ts'],
    // Two cores: a few files at a time; each test file works in its own Redis namespace.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 20_000,
    hookTimeout: 30_000,
    reporters: ['default'],
  },
});
