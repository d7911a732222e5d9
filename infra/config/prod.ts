import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { WEBHOOK_DELIVERY, type EnvironmentConfigInput } from './types.ts';

/** Production: data retained, a week to review a draft, Cognito threat protection enforced. */
export const prodConfig: EnvironmentConfigInput = {
  envName: 'prod',
  modelAllowList: ['gpt-4.1-mini', 'gpt-4.1'],
  defaultMonthlyBudgetUsd: 500,
  rateLimits: { requestsPerMinute: 120, tokensPerMinute: 2_000_000 },
  reviewTimeoutSeconds: 7 * 24 * 60 * 60,
  traceRetentionDays: 90,
  removalPolicy: RemovalPolicy.RETAIN,
  auth: { kind: 'cognito', threatProtection: true },
  corsAllowOrigins: ['https://app.rein.example.com'],
  apiThrottling: { rateLimit: 200, burstLimit: 400 },
  logLevel: 'INFO',
  webhooks: WEBHOOK_DELIVERY,
  alarmEmail: 'rein-oncall@rein.example.com',
  logRetention: RetentionDays.ONE_YEAR,
};
