import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { RateLimiter } from '../../ports/index.ts';
import { isConditionFailure } from './client.ts';

const WINDOW_MS = 60_000;

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
    const windowStart = Math.floor(now.getTime() / WINDOW_MS) * WINDOW_MS;
    const retryAfterMs = windowStart + WINDOW_MS - now.getTime();
    if (amount > limit) return { allowed: false, retryAfterMs };
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `RATE#${key}`, sk: `W#${windowStart}` },
          UpdateExpression: 'ADD #used :amount SET expiresAt = :expires',
          ConditionExpression: 'attribute_not_exists(#used) OR #used <= :room',
          ExpressionAttributeNames: { '#used': 'used' },
          ExpressionAttributeValues: {
            ':amount': amount,
            ':room': limit - amount,
            ':expires': Math.floor((windowStart + 2 * WINDOW_MS) / 1000),
          },
        }),
      );
      return { allowed: true };
    } catch (error) {
      if (isConditionFailure(error)) return { allowed: false, retryAfterMs };
      throw error;
    }
  }
}
