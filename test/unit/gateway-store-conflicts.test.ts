import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DynamoGatewayStore } from '#shared/adapters/dynamodb/gateway-store.ts';
import { BudgetExceededError } from '#shared/domain/errors.ts';
import { HOLD } from '#shared/domain/hold.ts';
import type { Reservation, Settlement } from '#shared/ports/index.ts';
import { buildSpan } from '#shared/usecases/tracing.ts';

// DynamoDB Local does not stage transaction conflicts or throttling on demand, so the retry on
// `TransactionConflict` (which the SDK does not retry), the reading of cancellation reasons with the
// old items (ReturnValuesOnConditionCheckFailure) and the transient-settle path are pinned down here
// with a mocked client. The protocol itself runs against DynamoDB Local in the contract suite.

const NOW = new Date('2026-11-24T10:00:30Z');
const reservation: Reservation = {
  tenantId: 'acme',
  runId: 'run_1',
  attempt: 1,
  attemptKey: '1.gpt-4.1-mini.1',
  model: 'gpt-4.1-mini',
  amountUsd: 0.1,
  month: '2026-11',
  owner: 'inv_1',
  leaseUntil: NOW.getTime() + 60_000,
};
const tokens = { key: 'acme#tpm', tokens: 100, limitPerMinute: 1000 };
const span = buildSpan('acme', 'run_1', {
  name: 'chat gpt-4.1-mini',
  kind: 'model_attempt',
  start: NOW,
  end: NOW,
  status: 'ok',
  attributes: {},
});
const settlement: Settlement = {
  attempt: {
    attempt: 1,
    model: 'gpt-4.1-mini',
    outputText: '{}',
    refusal: null,
    finishReason: 'completed',
    validationErrors: null,
    costUsd: 0.03,
    billing: {
      reservation,
      usage: { inputTokens: 10, cachedInputTokens: 0, outputTokens: 10, reasoningTokens: 0 },
      priceVersion: 'p',
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
  span,
};

/** A cancelled transaction; a reason is a code, or a failed condition with the item as it was. */
function cancelled(...reasons: (string | Record<string, unknown>)[]): TransactionCanceledException {
  return new TransactionCanceledException({
    message: 'Transaction cancelled, please refer cancellation reasons for specific reasons',
    $metadata: {},
    CancellationReasons: reasons.map((reason) =>
      typeof reason === 'string'
        ? { Code: reason }
        : { Code: 'ConditionalCheckFailed', Item: marshall(reason, { removeUndefinedValues: true }) },
    ),
  });
}

describe('DynamoGatewayStore against a mocked client', () => {
  const dynamo = mockClient(DynamoDBDocumentClient);
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
  const sleeps: number[] = [];
  const store = new DynamoGatewayStore(
    doc,
    { ledger: 'ledger', workflow: 'workflow', trace: 'trace' },
    7,
    25,
    (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  );

  afterEach(() => {
    dynamo.reset();
    sleeps.length = 0;
  });

  it('sends a transaction cancelled only by a concurrent conflict again', async () => {
    dynamo
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled('None', 'TransactionConflict', 'None', 'None'))
      .resolves({});

    expect(await store.reserve(reservation, 1, tokens, NOW)).toEqual({ reserved: true });
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
  });

  it('reserves in one transaction of four items: token window, budget, hold, run cost check', async () => {
    dynamo.on(TransactWriteCommand).resolves({});

    await store.reserve(reservation, 1, tokens, NOW);

    const items = dynamo.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    expect(items.map((item) => Object.keys(item)[0])).toEqual(['Update', 'Update', 'Put', 'ConditionCheck']);
    expect(items[2]?.Put?.Item).toMatchObject({
      state: HOLD.held,
      owner: 'inv_1',
      leaseUntil: reservation.leaseUntil,
    });
  });

  it('refuses the hold when settled spend plus the hold passes the limit', async () => {
    dynamo
      .on(TransactWriteCommand)
      .rejects(
        cancelled(
          'None',
          { limitUsd: 1, spentUsd: 0.95, reservedUsd: 0, availableUsd: 0.05 },
          'None',
          'None',
        ),
      );

    await expect(store.reserve(reservation, 1, tokens, NOW)).rejects.toThrow(BudgetExceededError);
  });

  it("asks to wait when only other runs' in-flight holds stand in the way", async () => {
    dynamo
      .on(TransactWriteCommand)
      .rejects(
        cancelled(
          'None',
          { limitUsd: 1, spentUsd: 0.5, reservedUsd: 0.45, availableUsd: 0.05 },
          'None',
          'None',
        ),
      );

    expect(await store.reserve(reservation, 1, tokens, NOW)).toEqual({
      reserved: false,
      heldByOthers: {
        budget: 'tenant_month',
        month: '2026-11',
        limitUsd: 1,
        spentUsd: 0.5,
        reservedUsd: 0.45,
        attemptUsd: 0.1,
      },
    });
  });

  it("reports another invocation's live lease without touching it", async () => {
    dynamo
      .on(TransactWriteCommand)
      .rejects(
        cancelled(
          'None',
          'None',
          { state: HOLD.held, owner: 'inv_0', leaseUntil: NOW.getTime() + 5 },
          'None',
        ),
      );

    expect(await store.reserve(reservation, 1, tokens, NOW)).toEqual({
      reserved: false,
      leaseUntil: NOW.getTime() + 5,
    });
    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('sweeps an expired lease (naming its owner and lease), then takes the hold', async () => {
    const dead = { ...reservation, owner: 'inv_0', leaseUntil: NOW.getTime() - 1 };
    dynamo
      .on(TransactWriteCommand)
      .rejectsOnce(
        cancelled(
          'None',
          'None',
          {
            state: HOLD.held,
            owner: 'inv_0',
            leaseUntil: dead.leaseUntil,
            attemptKey: dead.attemptKey,
            reservation: JSON.stringify(dead),
          },
          'None',
        ),
      )
      .resolves({});

    expect(await store.reserve(reservation, 1, tokens, NOW)).toEqual({ reserved: true });
    const sweep = dynamo.commandCalls(TransactWriteCommand)[1]?.args[0].input.TransactItems?.[0]?.Update;
    expect(sweep?.ExpressionAttributeValues).toMatchObject({
      ':owner': 'inv_0',
      ':lease': dead.leaseUntil,
      ':to': HOLD.released,
    });
  });

  it('answers done for a settled attempt, calling nothing more', async () => {
    dynamo
      .on(TransactWriteCommand)
      .rejects(cancelled('None', 'None', { state: HOLD.settled, model: 'gpt-4o-mini' }, 'None'));

    expect(await store.reserve(reservation, 1, tokens, NOW)).toEqual({
      reserved: false,
      done: { model: 'gpt-4o-mini' },
    });
  });

  it('keeps the answer on its hold and throws Rein.SettlePending when the settle is throttled', async () => {
    dynamo
      .on(TransactWriteCommand)
      .rejects(cancelled('None', 'ThrottlingError', 'None', 'None', 'None', 'None'));
    dynamo.on(UpdateCommand).resolves({});

    await expect(store.settle(settlement, NOW)).rejects.toMatchObject({ name: 'Rein.SettlePending' });

    expect(dynamo.commandCalls(TransactWriteCommand)).toHaveLength(6);
    const kept = dynamo.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(kept?.ExpressionAttributeValues).toMatchObject({ ':to': HOLD.answered, ':owner': 'inv_1' });
  });

  it('treats a settle that finds its try settled already as done (an SDK retry of a committed one)', async () => {
    dynamo
      .on(TransactWriteCommand)
      .rejects(
        cancelled(
          { state: HOLD.settled, attemptKey: reservation.attemptKey },
          'None',
          'None',
          'None',
          'None',
          'None',
        ),
      );

    await expect(store.settle(settlement, NOW)).resolves.toBeUndefined();
  });
});
