import { defineConfig } from 'vitest/config';

// Three suites: unit (fakes only, no network), integration (the real local engines over loopback)
// and infra (CDK template assertions and cdk-nag over every stage).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          // One DynamoDB Local (a JVM) for the whole run, shared by every file's stack with tables of
          // its own: see test/integration/local-stack.ts.
          globalSetup: ['test/integration/global-setup.ts'],
          // Files run one at a time: the machine has two cores and the stacks run in-process.
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          // The review console in headless Chromium (Debian's chromium via playwright-core) on the local stack.
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 90_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
        },
      },
    ],
  },
});
