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

/**
 * Files of the unit and integration projects share their worker's modules (`isolate: false`): each
 * file would otherwise load the AWS SDK, aws-cdk-lib and the whole app again (seconds of CPU per
 * file). Tests keep no state in modules: every file builds its own stacks and fakes, and restores
 * what it changes (mocks, environment variables). (The infra files keep a scratch directory per
 * module evaluation, so they stay isolated.)
 */
const SHARED_MODULES = { isolate: false } as const;

/**
 * Files that run alone, before the others (`sequence.groupOrder` 0; all the other projects are
 * group 1): they drive the CLIs as a user would, in processes of their own (the README's eval loop:
 * four CLI runs over a copy of the repository; `npm run import`), CPU-bound work that, beside
 * another heavy file on two loaded cores, ran past its timeout. The checks of `npm test`
 * (typecheck, lint) use the other core meanwhile.
 */
const ALONE = ['test/integration/evals-promote.test.ts', 'test/integration/ingestion.test.ts'];
const AFTER_ALONE = { sequence: { groupOrder: 1 } } as const;

// Four suites: unit (fakes only, no network), integration (the real local engines over loopback),
// e2e (the review console in Chromium on the local stack) and infra (CDK template assertions and
// cdk-nag over every stage).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          ...SHARED_MODULES,
          ...AFTER_ALONE,
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          maxWorkers: WORKERS,
        },
      },
      {
        test: {
          name: 'integration',
          ...SHARED_MODULES,
          ...AFTER_ALONE,
          include: ['test/integration/**/*.test.ts'],
          exclude: ALONE,
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
          ...AFTER_ALONE,
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
          // Its stacks start a DynamoDB Local of their own (no globalSetup here: one JVM per stack).
          name: 'integration-alone',
          // Shared modules here too: vitest would otherwise put an isolated one-worker project of
          // group 0 in a group of its own after all the others.
          ...SHARED_MODULES,
          include: ALONE,
          environment: 'node',
          sequence: { groupOrder: 0 },
          maxWorkers: 1,
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'infra',
          ...AFTER_ALONE,
          include: ['test/infra/**/*.test.ts'],
          environment: 'node',
          maxWorkers: WORKERS,
          testTimeout: 120_000,
        },
      },
    ],
  },
});
