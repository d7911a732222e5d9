import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RateLimiter } from '../../ports/index.ts';
import { isConditionFailure } from './client.ts';

const WINDOW_MS = 60_000;

/** When the window holding `now` ends, ms from `now`. */
export function windowRetryAfterMs(now: Date): number {
  const windowStart = Math.floor(now.getTime() / WINDOW_MS) * WINDOW_MS;
  return windowStart + WINDOW_MS - now.getTime();
}

/**
 * The conditional update that adds `amount` to the current window of `key` unless that passes
 * `limit`. Used alone by DynamoRateLimiter and inside the gateway's reservation transaction.
 */
export function windowUpdate(table: string, key: string, amount: number, limit: number, now: Date) {
  const windowStart = Math.floor(now.getTime() / WINDOW_MS) * WINDOW_MS;
  return {
    TableName: table,
    Key: { pk: `RATE#${key}`, sk: `W#${windowStart}` },
    UpdateExpression: 'ADD #used :amount SET expiresAt = :expires',
    ConditionExpression: 'attribute_not_exists(#used) OR #used <= :room',
    ExpressionAttributeNames: { '#used': 'used' },
    ExpressionAttributeValues: {
      ':amount': amount,
      ':room': limit - amount,
      ':expires': Math.floor((windowStart + 2 * WINDOW_MS) / 1000),
    },
  };
}

/**
 * Per-minute fixed windows in the ledger table (`RATE#<key>` / `W#<window start>`), consumed with one
 * conditional update, so every concurrent Lambda sees the same count. Items expire by TTL.
 */
export class DynamoRateLimiter implements RateLimiter {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async consume(
    key: string,
    amount: number,
    limit: number,
    now: Date,
  ): Promise<{ allowed: true } | { allowed: false; retryAfterMs: number }> {
    const retryAfterMs = windowRetryAfterMs(now);
    if (amount > limit) return { allowed: false, retryAfterMs };
    try {
      await this.doc.send(new UpdateCommand(windowUpdate(this.table, key, amount, limit, now)));
      return { allowed: true };
    } catch (error) {
      if (isConditionFailure(error)) return { allowed: false, retryAfterMs };
      throw error;
    }
  }
}
