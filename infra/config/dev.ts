import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { WEBHOOK_DELIVERY, type EnvironmentConfigInput } from './types.ts';

/** Development: cheap models, short retention, everything destroyed with the stack. */
export const devConfig: EnvironmentConfigInput = {
  envName: 'dev',
  modelAllowList: ['gpt-4.1-mini', 'gpt-4.1-nano', 'gpt-4o-mini'],
  defaultMonthlyBudgetUsd: 25,
  rateLimits: { requestsPerMinute: 30, tokensPerMinute: 200_000 },
  reviewTimeoutSeconds: 24 * 60 * 60,
  traceRetentionDays: 14,
  removalPolicy: RemovalPolicy.DESTROY,
  auth: {
    kind: 'cognito',
    threatProtection: false,
    // The stage's smoke test pushes records into the tenant `smoke` (see infra/README.md).
    machineClients: [{ name: 'smoke-test', tenantId: 'smoke' }],
  },
  corsAllowOrigins: ['http://localhost:3000', 'http://localhost:5173'],
  apiThrottling: { rateLimit: 20, burstLimit: 40 },
  logLevel: 'DEBUG',
  webhooks: WEBHOOK_DELIVERY,
  logRetention: RetentionDays.TWO_WEEKS,
};
