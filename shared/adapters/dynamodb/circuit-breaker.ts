import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { CircuitBreaker } from '../../ports/index.ts';

export interface BreakerPolicy {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long the circuit stays open after the last failure before calls are let through again. */
  coolDownMs: number;
}

export function breakerKey(environment: string, model: string) {
  return { pk: `BREAKER#${environment}#${model}`, sk: 'STATE' };
}

/** One more consecutive failure of `model`. */
export function breakerFailureUpdate(table: string, environment: string, model: string, now: Date) {
  return {
    TableName: table,
    Key: breakerKey(environment, model),
    UpdateExpression: 'ADD failures :one SET lastFailureAt = :now',
    ExpressionAttributeValues: { ':one': 1, ':now': now.getTime() },
  };
}

/** A success clears the failures. */
export function breakerResetUpdate(table: string, environment: string, model: string) {
  return {
    TableName: table,
    Key: breakerKey(environment, model),
    UpdateExpression: 'SET failures = :zero',
    ExpressionAttributeValues: { ':zero': 0 },
  };
}

/**
 * A circuit breaker per model whose state lives in DynamoDB (`BREAKER#<env>#<model>` in the ledger
 * table), not in memory: concurrent Lambda invocations run in separate containers, and an in-memory
 * breaker would only ever see its own container's failures.
 *
 * The item holds the consecutive failures and the time of the last one. The circuit is open while
 * failures ≥ threshold and the last failure is younger than the cool-down. After the cool-down calls
 * go through again (half-open): one more failure re-opens it at once, a success clears it. Its writes
 * are best effort and never part of a money transaction: the item is shared by every tenant, and a
 * conflict on it must never cost a settlement. The gateway sends them alongside its own transaction.
 *
 * "Consecutive" is approximate across containers: a success clears the count only when its
 * invocation read a non-zero count before calling (so successes of a healthy model never write the
 * shared item); a success between other containers' failures may leave their count standing. The
 * error is towards opening early during a flapping outage, for one cool-down at most.
 */
export class DynamoCircuitBreaker implements CircuitBreaker {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly environment: string,
    private readonly policy: BreakerPolicy,
  ) {}

  async check(model: string, now: Date): Promise<{ open: boolean; failures: number }> {
    const result = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: breakerKey(this.environment, model),
        ConsistentRead: true,
      }),
    );
    const failures = Number(result.Item?.['failures'] ?? 0);
    const lastFailureAt = Number(result.Item?.['lastFailureAt'] ?? 0);
    const open =
      failures >= this.policy.failureThreshold && now.getTime() < lastFailureAt + this.policy.coolDownMs;
    return { open, failures };
  }

  async recordFailure(model: string, now: Date): Promise<void> {
    await this.doc.send(new UpdateCommand(breakerFailureUpdate(this.table, this.environment, model, now)));
  }

  async clearFailures(model: string): Promise<void> {
    await this.doc.send(new UpdateCommand(breakerResetUpdate(this.table, this.environment, model)));
  }
}
