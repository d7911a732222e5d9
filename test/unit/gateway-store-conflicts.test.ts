import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
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
  owner: 'inv_1',
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

  it('gives up after eight contended tries and surfaces the error', async () => {
    dynamo.on(TransactWriteCommand).rejects(cancelled('None', 'TransactionConflict'));

    await expect(store.release(reservation, null, NOW)).rejects.toThrow(TransactionCanceledException);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(8);
    expect(sleeps).toHaveLength(7);
  });

  it('sends a transaction cancelled by the throttling of one of its items again', async () => {
    dynamo.on(TransactWriteCommand).rejectsOnce(cancelled('ThrottlingError', 'None')).resolves({});

    await store.release(reservation, null, NOW);

    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  it('drops the advisory breaker update from the third try when it is still the item in conflict', async () => {
    dynamo
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled('None', 'None', 'TransactionConflict'))
      .rejectsOnce(cancelled('None', 'None', 'TransactionConflict'))
      .resolves({});

    await store.release(reservation, 'gpt-4.1-mini', NOW);

    const sent = dynamo
      .commandCalls(TransactWriteCommand)
      .map((call) => call.args[0].input.TransactItems?.length);
    expect(sent).toEqual([3, 3, 2]);
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
    dynamo.on(GetCommand).resolves({ Item: { state: 'reserved', owner: reservation.owner } });

    expect(await store.reserve(reservation, tokens, NOW)).toEqual({ reserved: true });
  });

  it('reports a key held by another invocation as taken, never as the budget refusing it', async () => {
    dynamo.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed', 'None'));
    dynamo.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    dynamo.on(GetCommand).resolves({ Item: { state: 'reserved', owner: 'inv_other' } });

    expect(await store.reserve(reservation, tokens, NOW)).toEqual({ reserved: false, taken: true });
  });

  it('refuses with BudgetExceededError when the budget fails twice and the key is not held', async () => {
    dynamo.on(TransactWriteCommand).rejects(cancelled('None', 'ConditionalCheckFailed', 'None'));
    dynamo.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    dynamo.on(GetCommand).resolves({});

    await expect(store.reserve(reservation, tokens, NOW)).rejects.toThrow(BudgetExceededError);
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(2);
  });

  it('leaves the answer on its reservation when the settle transaction cannot be written, then throws', async () => {
    dynamo.on(TransactWriteCommand).rejects(cancelled('None', 'ThrottlingError', 'None', 'None', 'None'));
    dynamo.on(UpdateCommand).resolves({});
    const settlement = answeredSettlement();

    await expect(store.settle(settlement, NOW)).rejects.toThrow(TransactionCanceledException);

    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(8);
    const [marked] = dynamo.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(marked?.ConditionExpression).toBe('#state = :from AND #owner = :owner');
    expect(marked?.ExpressionAttributeValues).toMatchObject({ ':from': 'reserved', ':to': 'answered' });
    expect(JSON.parse(String(marked?.ExpressionAttributeValues?.[':settlement']))).toEqual(settlement);
  });

  it('keeps no answer for an error that retrying cannot fix (a rejected request)', async () => {
    const invalid = Object.assign(new Error('Item size has exceeded the maximum allowed size'), {
      name: 'ValidationException',
      $metadata: { httpStatusCode: 400 },
    });
    dynamo.on(TransactWriteCommand).rejects(invalid);

    await expect(store.settle(answeredSettlement(), NOW)).rejects.toThrow('maximum allowed size');
    expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('ends the other stranded reservations of a run when one of them cannot be ended, and reports it', async () => {
    const warnings: string[] = [];
    const warned = new DynamoGatewayStore(
      doc,
      { ledger: 'ledger', workflow: 'workflow' },
      'test',
      25,
      () => Promise.resolve(),
      (message) => warnings.push(message),
    );
    const held = (attemptKey: string) => ({
      pk: 'acme#RUN#run_1',
      sk: `RES#${attemptKey}#inv_dead`,
      state: 'reserved',
      owner: 'inv_dead',
      amountUsd: 0.1,
      month: '2026-11',
    });
    dynamo.on(QueryCommand).resolves({ Items: [held('1.m.1'), held('1.m.2')] });
    dynamo
      .on(TransactWriteCommand)
      .rejectsOnce(
        Object.assign(new Error('broken'), {
          name: 'ValidationException',
          $metadata: { httpStatusCode: 400 },
        }),
      )
      .resolves({});

    const result = await warned.releaseHeld('acme', 'run_1', NOW);

    expect(result).toEqual({ released: ['1.m.2'], settled: [], failed: ['1.m.1'] });
    expect(warnings).toEqual(['A stranded reservation could not be ended']);
  });

  it('settles an answer its owner kept while the sweep was ending the hold', async () => {
    const key = { pk: 'acme#RUN#run_1', sk: 'RES#1.m.1#inv_1' };
    dynamo.on(QueryCommand).resolves({
      Items: [
        { ...key, state: 'reserved', owner: 'inv_1', attemptKey: '1.m.1', amountUsd: 0.1, month: '2026-11' },
      ],
    });
    dynamo.on(TransactWriteCommand).rejectsOnce(cancelled('ConditionalCheckFailed', 'None')).resolves({});
    dynamo.on(GetCommand).resolves({
      Item: {
        ...key,
        state: 'answered',
        owner: 'inv_1',
        settlement: JSON.stringify(answeredSettlement()),
        answeredAt: NOW.toISOString(),
      },
    });

    expect(await store.releaseHeld('acme', 'run_1', NOW)).toEqual({
      released: [],
      settled: ['1.m.1'],
      failed: [],
    });
    const [, settle] = dynamo
      .commandCalls(TransactWriteCommand)
      .map((call) => call.args[0].input.TransactItems);
    expect(settle?.[0]?.Update?.ConditionExpression).toBe('#state = :from');
    expect(settle?.[0]?.Update?.ExpressionAttributeValues?.[':from']).toBe('answered');
  });

  it('reports a kept answer whose condition keeps failing as failed instead of trying forever', async () => {
    const item = {
      pk: 'acme#RUN#run_1',
      sk: 'RES#1.m.1#inv_1',
      state: 'answered',
      owner: 'inv_1',
      attemptKey: '1.m.1',
      settlement: JSON.stringify(answeredSettlement()),
      answeredAt: NOW.toISOString(),
    };
    dynamo.on(QueryCommand).resolves({ Items: [item] });
    dynamo
      .on(TransactWriteCommand)
      .rejects(cancelled('None', 'None', 'None', 'None', 'ConditionalCheckFailed'));
    dynamo.on(GetCommand).resolves({ Item: item });

    expect(await store.releaseHeld('acme', 'run_1', NOW)).toEqual({
      released: [],
      settled: [],
      failed: ['1.m.1'],
    });
    expect(dynamo.commandCalls(GetCommand)).toHaveLength(1);
  });
});

function answeredSettlement() {
  return {
    attempt: {
      attempt: 1,
      model: 'gpt-4.1-mini',
      outputText: '{}',
      refusal: null,
      finishReason: 'completed',
      validationErrors: null,
      costUsd: 0.01,
      billing: {
        reservation,
        usage: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 5, reasoningTokens: 0 },
        priceVersion: 'test',
      },
    },
    tags: {
      tenantId: 'acme',
      workflowId: 'renewal-brief',
      runId: 'run_1',
      userId: 'csm-alice',
      model: 'gpt-4.1-mini',
      promptId: 'renewal-brief',
      promptVersion: 'v1',
      environment: 'test',
    },
    clearBreakerOf: null,
  };
}
