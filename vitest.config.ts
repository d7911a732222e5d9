import { defineConfig } from 'vitest/config';

/**
 * Test files run two at a time, across every project: the CI machine has two cores, and vitest
 * runs projects with the same `sequence.groupOrder` in one pool whose `maxWorkers` they must share
 * (a project with `fileParallelism: false` would be put in a group of its own, run after all the
 * others, one file at a time). Integration files are safe side by side: each file's stack has its
 * own tables on the shared DynamoDB Local, its own ports (all chosen by the OS) and its own temp
 * directories.
 */
const WORKERS = 2;

// Four suites: unit (fakes only, no network), integration (the real local engines over loopback),
// e2e (the review console in Chromium on the local stack) and infra (CDK template assertions and
// cdk-nag over every stage).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          maxWorkers: WORKERS,
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
          maxWorkers: WORKERS,
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
          maxWorkers: WORKERS,
          testTimeout: 90_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          environment: 'node',
          maxWorkers: WORKERS,
          testTimeout: 120_000,
        },
      },
    ],
  },
});
