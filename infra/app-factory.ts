import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  ENV_NAMES,
  loadEnvironmentConfig,
  type EnvName,
  type EnvironmentConfigInput,
} from './config/index.ts';
import type { ConsoleAssets } from './constructs/console.ts';
import { ReinStage } from './stages/rein-stage.ts';

/** The console's Vite build, as `npm run web:build` writes it. */
export const CONSOLE_BUILD_DIR = fileURLToPath(new URL('../web/dist', import.meta.url));

function consoleAssets(options: CreateAppOptions): ConsoleAssets | false {
  if (options.console !== undefined) return options.console;
  if (options.bundling === false) return { kind: 'placeholder' };
  if (!existsSync(join(CONSOLE_BUILD_DIR, 'index.html')))
    throw new Error('The review console is not built: run `npm run web:build` before synthesizing.');
  return { kind: 'build', dir: CONSOLE_BUILD_DIR };
}

export type { EnvName } from './config/index.ts';

export interface CreateAppOptions {
  /** Which environments to build. @default all: dev, staging, prod */
  readonly stages?: readonly EnvName[];
  /**
   * Whether NodejsFunction bundles with esbuild. Tests and the local stack turn it off: the
   * templates are the same, only the code assets are placeholders. @default true
   */
  readonly bundling?: boolean;
  /** Cloud assembly directory. @default CDK_OUTDIR from the CLI, else a temporary directory */
  readonly outdir?: string;
  /** Settings applied over every built environment's config (tests, the local stack). */
  readonly overrides?: Partial<EnvironmentConfigInput>;
  /** Extra CDK context, e.g. `{ account, region }` as `-c` would give. */
  readonly context?: Record<string, unknown>;
  /**
   * The review console's files: the Vite build in web/dist (`npm run web:build`), a placeholder
   * page, or false for none (the local stack). @default the build when bundling, else the placeholder
   */
  readonly console?: ConsoleAssets | false;
}

export interface ReinApp {
  readonly app: App;
  /** The stages built, by environment (only those requested in `stages`). */
  readonly stages: Record<EnvName, ReinStage>;
}

/**
 * The Rein CDK app: one Stage per environment, with the AwsSolutions cdk-nag checks over all of
 * them. cdk-nag 3 is a policy validation plugin: any finding nobody acknowledged, error or
 * warning, fails `app.synth()` and is written to the cloud assembly's `validation-report.json`.
 * (`stage.synth()` of a single stage, as the local stack does, skips the plugin.)
 */
export function createApp(options: CreateAppOptions = {}): ReinApp {
  const app = new App({
    ...(options.outdir === undefined ? {} : { outdir: options.outdir }),
    context: {
      // Stateless reads stateful through stack exports (Fn::ImportValue), which also keeps a table
      // from being removed while a function still uses it. cdk.json or -c can still override this.
      '@aws-cdk/core:defaultCrossStackReferences': 'strong',
      ...options.context,
    },
    // Applied after the CLI's context, so "no bundling" holds even under `cdk synth`.
    ...(options.bundling === false ? { postCliContext: { 'aws:cdk:bundling-stacks': [] } } : {}),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

  const console = consoleAssets(options);
  const stages: Partial<Record<EnvName, ReinStage>> = {};
  for (const envName of options.stages ?? ENV_NAMES) {
    const config = loadEnvironmentConfig(envName, app.node, options.overrides);
    stages[envName] = new ReinStage(app, envName, { config, console });
  }
  return { app, stages: stages as Record<EnvName, ReinStage> };
}
