import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { WEBHOOK_DELIVERY, type EnvironmentConfigInput } from './types.ts';

/** Staging: production models and limits at a smaller scale; data is kept like production's. */
export const stagingConfig: EnvironmentConfigInput = {
  envName: 'staging',
  modelAllowList: ['gpt-4.1-mini', 'gpt-4.1'],
  defaultMonthlyBudgetUsd: 50,
  rateLimits: { requestsPerMinute: 60, tokensPerMinute: 500_000 },
  reviewTimeoutSeconds: 3 * 24 * 60 * 60,
  traceRetentionDays: 30,
  removalPolicy: RemovalPolicy.RETAIN,
  auth: { kind: 'cognito', threatProtection: false },
  corsAllowOrigins: ['https://staging.rein.example.com'],
  apiThrottling: { rateLimit: 50, burstLimit: 100 },
  logLevel: 'INFO',
  webhooks: WEBHOOK_DELIVERY,
  alarmEmail: 'rein-alerts-staging@rein.example.com',
  logRetention: RetentionDays.ONE_MONTH,
};
