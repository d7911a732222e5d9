import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ENV_NAMES } from '../../infra/config/types.ts';
import { buildApp } from './support.ts';

interface ValidationReport {
  pluginReports: { pluginName: string; violations: { ruleName: string; severity: string }[] }[];
}

/** The AwsSolutions findings CDK wrote to the cloud assembly's validation report. */
function reportedNagFindings(outdir: string): string[] {
  const path = join(outdir, 'validation-report.json');
  if (!existsSync(path)) throw new Error(`No validation report in ${outdir}.`);
  const report = JSON.parse(readFileSync(path, 'utf8')) as ValidationReport;
  return report.pluginReports
    .filter((plugin) => plugin.pluginName === 'AwsSolutions')
    .flatMap((plugin) => plugin.violations.map((violation) => `${violation.severity} ${violation.ruleName}`));
}

const reinApp = buildApp();
// Synthesizing the app runs the registered AwsSolutions plugin over every stage: any
// unacknowledged finding, error or warning, makes this throw and is written to the report.
reinApp.app.synth();

describe.each(ENV_NAMES)('cdk-nag AwsSolutions over the %s stage', (env) => {
  const stage = reinApp.stages[env];

  it('reports no unacknowledged error or warning', () => {
    const report = new AwsSolutionsChecks().validateScope(stage);
    const findings = report.violations.map((violation) => ({
      rule: violation.ruleName,
      severity: violation.severity,
      resources: violation.violatingResources.map((resource) => resource.constructPath),
    }));
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('leaves no error or warning annotation on its stacks', () => {
    for (const stack of [stage.stateful, stage.stateless]) {
      expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
      expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
    }
  });
});

describe('the app-level validation report', () => {
  it('holds no AwsSolutions finding for any stage', () => {
    expect(reportedNagFindings(reinApp.outdir)).toEqual([]);
  });
});

describe('acknowledgments', () => {
  const acknowledged = reinApp.app.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) => Object.entries(entry.data as Record<string, string>))
      .map(([id, reason]) => ({ path: construct.node.path, id, reason })),
  );

  it('exist only for the findings the design accepts', () => {
    const rules = new Set(
      acknowledged.map(({ id }) => id.replace(/^[A-Za-z]+::/, '').replace(/\[.*\]$/, '')),
    );
    expect([...rules].sort()).toEqual([
      'AwsSolutions-APIG4',
      'AwsSolutions-CFR1',
      'AwsSolutions-CFR2',
      'AwsSolutions-CFR4',
      'AwsSolutions-COG8',
      'AwsSolutions-IAM4',
      'AwsSolutions-IAM5',
      'AwsSolutions-L1',
      'AwsSolutions-S1',
      'AwsSolutions-SMG4',
      // The outbox stream's dead-letter queue needs no dead-letter queue of its own.
      'AwsSolutions-SQS3',
      // Acknowledged by aws-cdk-lib itself on the console's access-log bucket (ACLs for CloudFront logs).
      'CloudFormation-Validate::W3045',
    ]);
  });

  it('each carry a specific written reason', () => {
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const { path, id, reason } of acknowledged) {
      expect(reason.length, `${path} ${id}`).toBeGreaterThan(60);
    }
  });

  it('acknowledge IAM5 only for named findings, never the whole rule', () => {
    for (const { id, path } of acknowledged.filter(({ id }) => id.includes('IAM5'))) {
      expect(id).toMatch(/AwsSolutions-IAM5\[(Resource|Action)::.+\]$/);
      // Wildcard actions only on CDK's own BucketDeployment handler, never on Rein's roles.
      if (id.includes('[Action::')) expect(path).toMatch(/\/Custom::CDKBucketDeployment[^/]*$/);
    }
  });

  it('acknowledge the AWS managed policy and runtime findings only on the BucketDeployment handler', () => {
    for (const { id, path } of acknowledged.filter(({ id }) => /IAM4|L1/.test(id))) {
      expect(path, id).toMatch(/\/Custom::CDKBucketDeployment[^/]*$/);
    }
  });

  it('acknowledge missing authorization only on the public health and OpenAPI routes', () => {
    const paths = acknowledged
      .filter(({ id }) => id.endsWith('AwsSolutions-APIG4'))
      .map(({ path }) => path.split('/').pop());
    expect(new Set(paths)).toEqual(new Set(['GET--v1--health', 'GET--v1--openapi.json']));
  });

  it('keep Cognito threat protection a production requirement', () => {
    const cog8 = acknowledged
      .filter(({ id }) => id.endsWith('AwsSolutions-COG8'))
      .map(({ path }) => path.split('/')[0]);
    expect(cog8.sort()).toEqual(['dev', 'staging']);
  });
});

describe('the app-wide AwsSolutions plugin', () => {
  it('fails synthesis on a finding nobody acknowledged', () => {
    const probe = buildApp({ stages: ['dev'] });
    new sns.Topic(probe.stages.dev.stateless, 'UnencryptedTransportTopic');
    expect(() => probe.app.synth()).toThrow(/AwsSolutions-SNS3/);
  });

  it('fails synthesis on an unacknowledged warning too, and writes it to the validation report', () => {
    const probe = buildApp({ stages: ['dev'] });
    new dynamodb.Table(probe.stages.dev.stateful, 'NoRecoveryTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    });
    expect(() => probe.app.synth()).toThrow(/AwsSolutions-DDB3/);
    expect(reportedNagFindings(probe.outdir)).toEqual(['warning AwsSolutions-DDB3']);
  });

  it('covers stacks added to any stage', () => {
    const probe = buildApp({ stages: ['prod'] });
    const extra = new Stack(probe.stages.prod, 'Extra');
    new sns.Topic(extra, 'Topic');
    expect(() => probe.app.synth()).toThrow(/AwsSolutions-SNS3/);
  });
});
