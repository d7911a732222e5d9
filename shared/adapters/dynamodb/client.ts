import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';

/**
 * One document client per runtime. The SDK's own retries (3 attempts, for throttling and 5xx) own
 * DynamoDB retries on every call path; the use cases never retry DynamoDB calls themselves.
 */
export function createDocumentClient(options: {
  region: string;
  endpoint?: string | undefined;
}): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    region: options.region,
    ...(options.endpoint
      ? { endpoint: options.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

/** True when a write failed its condition (`ConditionalCheckFailedException`). */
export function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** True when a transaction was cancelled because one of its conditions failed. */
export function isTransactionConditionFailure(error: unknown): boolean {
  return (
    error instanceof Error &&
    error.name === 'TransactionCanceledException' &&
    'CancellationReasons' in error &&
    Array.isArray(error.CancellationReasons) &&
    error.CancellationReasons.some((reason: { Code?: string }) => reason.Code === 'ConditionalCheckFailed')
  );
}

const CONTENTION = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded']);

/** True when a transaction was cancelled only by contention (a concurrent transaction, throttling). */
export function isTransactionContention(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return false;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return (
    !reasons.some((reason) => reason.Code === 'ConditionalCheckFailed') &&
    reasons.some((reason) => reason.Code !== undefined && CONTENTION.has(reason.Code))
  );
}

type TransactItems = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>;

/**
 * Sends a transaction, again with a short jittered backoff while it is cancelled only by contention:
 * rollup counters are shared items, so concurrent writers of one cell may cancel each other.
 */
export async function sendWithContentionRetry(
  doc: DynamoDBDocumentClient,
  items: TransactItems,
  tries = 6,
): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await doc.send(new TransactWriteCommand({ TransactItems: items }));
      return;
    } catch (error) {
      if (attempt >= tries || !isTransactionContention(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(500, 20 * 2 ** attempt)));
    }
  }
}
