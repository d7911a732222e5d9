import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CircuitBreaker } from '../../ports/index.ts';

export interface BreakerPolicy {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit stays open before one call is let through again. */
  coolDownMs: number;
}

/**
 * A circuit breaker per model whose state lives in DynamoDB (`BREAKER#<env>#<model>`), not in memory:
 * concurrent Lambda invocations run in separate containers, and an in-memory breaker would only
 * ever see its own container's failures. One read before a call and one write after a failure (or
 * after the first success following failures) keep its cost small.
 */
export class DynamoCircuitBreaker implements CircuitBreaker {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly environment: string,
    private readonly policy: BreakerPolicy,
  ) {}

  /** Failures seen at the last read, per model: a success after none needs no write. */
  private readonly lastFailures = new Map<string, number>();

  private key(model: string) {
    return { pk: `BREAKER#${this.environment}#${model}`, sk: 'STATE' };
  }

  async isOpen(model: string, now: Date): Promise<boolean> {
    const result = await this.doc.send(new GetCommand({ TableName: this.table, Key: this.key(model) }));
    const openUntil = Number(result.Item?.['openUntil'] ?? 0);
    this.lastFailures.set(model, Number(result.Item?.['failures'] ?? 0));
    return openUntil > now.getTime();
  }

  async recordFailure(model: string, now: Date): Promise<void> {
    const result = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: this.key(model),
        UpdateExpression: 'ADD failures :one SET lastFailureAt = :now',
        ExpressionAttributeValues: { ':one': 1, ':now': now.getTime() },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const failures = Number(result.Attributes?.['failures'] ?? 0);
    if (failures >= this.policy.failureThreshold) {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(model),
          UpdateExpression: 'SET openUntil = :until, failures = :zero',
          ExpressionAttributeValues: { ':until': now.getTime() + this.policy.coolDownMs, ':zero': 0 },
        }),
      );
    }
  }

  async recordSuccess(model: string, _now: Date): Promise<void> {
    if ((this.lastFailures.get(model) ?? 0) === 0) return;
    this.lastFailures.set(model, 0);
    await this.doc
      .send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(model),
          UpdateExpression: 'SET failures = :zero',
          ConditionExpression: 'failures > :zero',
          ExpressionAttributeValues: { ':zero': 0 },
        }),
      )
      .catch((error: unknown) => {
        if (!(error instanceof Error && error.name === 'ConditionalCheckFailedException')) throw error;
      });
  }
}
