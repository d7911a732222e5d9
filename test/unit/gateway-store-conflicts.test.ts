import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoGatewayStore } from '#shared/adapters/dynamodb/gateway-store.ts';
import { BudgetExceededError } from '#shared/domain/errors.ts';
import type { Reservation } from '#shared/ports/index.ts';

// DynamoDB Local does not stage transaction conflicts on demand, nor report only some of the failed
// conditions, so the retry on `TransactionConflict` (which the SDK does not retry) and the reading of
// cancellation reasons are pinned down here with a mocked client.

const NOW = new Date('2026-11-24T10:00:30Z');
const reservation: Reservation = {
  tenantId: 'acme',
  runId: 'run_1',
  attemptKey: '1.gpt-4.1-mini.1',
  amountUsd: 0.1,
  month: '2026-11',
};
const tokens = { key: 'acme#tpm', tokens: 100, limitPerMinute: 1000 };

function cancelled(...codes: string[]): TransactionCanceledException {
  return new TransactionCanceledException({
    message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${codes.join(', ')}]`,
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
}

describe('DynamoGatewayStore transaction conflicts', () => {
  const dynamo = mockClient(DynamoDBDocumentClient);
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
  const sleeps: number[] = [];
  const store = new DynamoGatewayStore(doc, { ledger: 'ledger', workflow: 'workflow' }, 'test', 25, (ms) => {
    sleeps.push(ms);
    return Promise.resolve();
  });

  afterEach(() => {
    dynamo.reset();
    sleeps.length = 0;
  });

  it('sends a transaction cancelled only by a concurrent conflict again', async () => {
    dynamo
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled('None', 'TransactionConflict', 'None'))
      .resolves({});

    expect(await store.reserve(reservation, tokens, NOW)).toEqual({ reserved: true });
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
  });

  it('gives up after four conflicting tries and surfaces the error', async () => {
    dynamo.on(TransactWriteCommand).rejects(cancelled('None', 'TransactionConflict'));

    await expect(store.release(reservation, null, NOW)).rejects.toThrow(TransactionCanceledException);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(4);
  });

  it('does not retry a failed condition: a full token window answers at once', async () => {
    dynamo.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None', 'None'));

    expect(await store.reserve(reservation, tokens, NOW)).toEqual({ reserved: false, retryAfterMs: 30_000 });
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('reuses a held reservation even when the budget is the only failure reported', async () => {
    dynamo.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed', 'None'));
    dynamo.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    dynamo.on(GetCommand).resolves({ Item: { state: 'reserved' } });

    expect(await store.reserve(reservation, tokens, NOW)).toEqual({ reserved: true });
  });

  it('refuses with BudgetExceededError when the budget fails twice and the key is not held', async () => {
    dynamo.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed', 'None'));
    dynamo.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    dynamo.on(GetCommand).resolves({});

    await expect(store.reserve(reservation, tokens, NOW)).rejects.toThrow(BudgetExceededError);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });
});
