import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

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
