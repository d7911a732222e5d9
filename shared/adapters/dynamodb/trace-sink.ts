import { PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SpanSchema, type Span } from '../../domain/trace.ts';
import type { TraceSink } from '../../ports/index.ts';

/** A span's item in the trace table (also written inside the gateway's settle and release transactions). */
export function spanItem(tenantId: string, runId: string, span: Span, ttlDays: number) {
  return {
    pk: `${tenantId}#RUN#${runId}`,
    sk: `SPAN#${span.startTime}#${span.spanId}`,
    expiresAt: Math.floor(Date.parse(span.endTime) / 1000) + ttlDays * 86_400,
    ...span,
  };
}

/** Spans in the trace table under `<tenant>#RUN#<runId>`, sorted by start time, expiring by TTL. */
export class DynamoTraceSink implements TraceSink {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly ttlDays: number,
  ) {}

  async record(tenantId: string, runId: string, span: Span): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: spanItem(tenantId, runId, span, this.ttlDays),
      }),
    );
  }

  async list(tenantId: string, runId: string): Promise<Span[]> {
    const spans: Span[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :span)',
          ExpressionAttributeValues: { ':pk': `${tenantId}#RUN#${runId}`, ':span': 'SPAN#' },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of result.Items ?? []) spans.push(SpanSchema.parse(item));
      startKey = result.LastEvaluatedKey;
    } while (startKey);
    return spans;
  }
}
