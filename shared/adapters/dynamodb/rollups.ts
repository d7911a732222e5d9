import { createHash } from 'node:crypto';
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Draft, Outcome } from '../../domain/draft.ts';
import { roundUsd } from '../../domain/pricing.ts';
import type { CostRollup, LedgerEntryTags, Reservation, ReviewRollup } from '../../ports/index.ts';
import {
  costRollupCountsRun,
  timeToDecisionBucket,
  TIME_TO_DECISION_BUCKET_PREFIX,
} from '../../domain/rollups.ts';

/**
 * Rollups: counters kept in the same transactions that write the facts they count, with DynamoDB
 * `ADD`, so reports read O(days) items whatever the number of runs.
 *
 * Ledger table (written by the gateway's settle and estimated-release transactions):
 * | item          | pk                        | sk                                               | byDay index (all tenants)                    |
 * |---------------|---------------------------|--------------------------------------------------|----------------------------------------------|
 * | cost cell     | `<t>#COST#<yyyy-mm>`      | `<day>#<workflow>#<model>#<promptVersion>#<shard>` | `COST#<yyyy-mm>` / `<day>#<t>#…`           |
 * | detail cell   | `<t>#COSTX#<yyyy-mm>`     | `<day>#<workflow>#<model>#<account>#<user>`      | `COSTX#<yyyy-mm>` / `<day>#<t>#…`           |
 *
 * Workflow table (written with the draft and with each decision):
 * | review cell   | `<t>#REVIEW#<yyyy-mm>`    | `<day>#<workflow>#<promptVersion>#<shard>` (day the draft was created) |
 *
 * The busiest cells are split in `ROLLUP_SHARDS` items by run (or draft) id, so concurrent
 * transactions of one tenant, workflow and day rarely touch the same item (a conflict cancels a
 * transaction); a report reads every shard.
 */
export const ROLLUP_SHARDS = 4;

/** The shard of a run's or draft's counters: stable per id. */
export function rollupShard(id: string): number {
  return (createHash('sha256').update(id).digest()[0] ?? 0) % ROLLUP_SHARDS;
}

const DAY = '#day';
const MONTH = '#month';

type CostCounters = Pick<
  CostRollup,
  | 'costUsd'
  | 'estimatedUsd'
  | 'calls'
  | 'runs'
  | 'inputTokens'
  | 'cachedInputTokens'
  | 'outputTokens'
  | 'reasoningTokens'
>;

/**
 * The update that adds `counters` to one cost cell: a base cell (per workflow, model and prompt
 * version, split in shards) or, with `detail`, a detail cell (per workflow, model, account and user).
 */
export function costCellUpdate(
  table: string,
  cell: Pick<
    CostRollup,
    'tenantId' | 'day' | 'workflowId' | 'model' | 'promptVersion' | 'accountId' | 'userId'
  >,
  counters: CostCounters,
  where: { detail: false; shard: number } | { detail: true },
) {
  const month = cell.day.slice(0, 7);
  const t = cell.tenantId;
  const rest = where.detail
    ? `${cell.workflowId}#${cell.model}#${cell.accountId}#${cell.userId}`
    : `${cell.workflowId}#${cell.model}#${cell.promptVersion}#${String(where.shard)}`;
  const family = where.detail ? 'COSTX' : 'COST';
  const dimensions = where.detail
    ? { accountId: cell.accountId, userId: cell.userId }
    : { promptVersion: cell.promptVersion };
  const dimensionNames = Object.keys(dimensions);
  return {
    Update: {
      TableName: table,
      Key: { pk: `${t}#${family}#${month}`, sk: `${cell.day}#${rest}` },
      UpdateExpression:
        `SET tenantId = :t, ${DAY} = :day, ${MONTH} = :month, workflowId = :wf, model = :model, gsi1pk = :g1, gsi1sk = :g2` +
        dimensionNames.map((name) => `, ${name} = :${name}`).join('') +
        ' ADD costUsd :cost, estimatedUsd :estimated, calls :calls, runs :runs, inputTokens :in, cachedInputTokens :cin, outputTokens :out, reasoningTokens :rsn',
      ExpressionAttributeNames: { [DAY]: 'day', [MONTH]: 'month' },
      ExpressionAttributeValues: {
        ':t': t,
        ':day': cell.day,
        ':month': month,
        ':wf': cell.workflowId,
        ':model': cell.model,
        ':g1': `${family}#${month}`,
        ':g2': `${cell.day}#${t}#${rest}`,
        ...Object.fromEntries(Object.entries(dimensions).map(([name, value]) => [`:${name}`, value])),
        ':cost': roundUsd(counters.costUsd),
        ':estimated': roundUsd(counters.estimatedUsd),
        ':calls': counters.calls,
        ':runs': counters.runs,
        ':in': counters.inputTokens,
        ':cin': counters.cachedInputTokens,
        ':out': counters.outputTokens,
        ':rsn': counters.reasoningTokens,
      },
    },
  };
}

/** The cost cells a charge adds to (its base cell and its detail cell), as transaction items. */
export function costRollupUpdates(
  table: string,
  reservation: Pick<Reservation, 'tenantId' | 'runId' | 'attempt' | 'attemptKey'>,
  tags: LedgerEntryTags,
  charge: {
    costUsd: number;
    estimated: boolean;
    usage: { inputTokens: number; cachedInputTokens: number; outputTokens: number; reasoningTokens: number };
  },
  now: Date,
) {
  const cost = roundUsd(charge.costUsd);
  const cell = {
    tenantId: reservation.tenantId,
    day: now.toISOString().slice(0, 10),
    workflowId: tags.workflowId,
    model: tags.model,
    promptVersion: tags.promptVersion,
    accountId: tags.accountId ?? '',
    userId: tags.userId,
  };
  const counters: CostCounters = {
    costUsd: cost,
    estimatedUsd: charge.estimated ? cost : 0,
    calls: 1,
    runs: costRollupCountsRun(reservation.attempt, reservation.attemptKey) ? 1 : 0,
    ...charge.usage,
  };
  return [
    costCellUpdate(table, cell, counters, { detail: false, shard: rollupShard(reservation.runId) }),
    costCellUpdate(table, cell, counters, { detail: true }),
  ];
}

/** Every month (YYYY-MM) that days in [fromDay, toDay] fall in. */
export function monthsBetween(fromDay: string, toDay: string): string[] {
  const months: string[] = [];
  let [year = 1970, month = 1] = fromDay.slice(0, 7).split('-').map(Number);
  const last = toDay.slice(0, 7);
  for (;;) {
    const current = `${String(year)}-${String(month).padStart(2, '0')}`;
    if (current > last) break;
    months.push(current);
    month += 1;
    if (month > 12) {
      month = 1;
      year += 1;
    }
  }
  return months;
}

/** Every item of a query, page after page. */
async function queryAll(
  doc: DynamoDBDocumentClient,
  input: ConstructorParameters<typeof QueryCommand>[0],
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const result = await doc.send(
      new QueryCommand({ ...input, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }),
    );
    items.push(...(result.Items ?? []));
    startKey = result.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** The cost cells of the days [fromDay, toDay]: one Query per month (all tenants through byDay). */
export async function readCostRollups(
  doc: DynamoDBDocumentClient,
  table: string,
  query: { fromDay: string; toDay: string; tenantId?: string; detail: boolean },
): Promise<CostRollup[]> {
  const family = query.detail ? 'COSTX' : 'COST';
  const pages = await Promise.all(
    monthsBetween(query.fromDay, query.toDay).map((month) =>
      query.tenantId === undefined
        ? queryAll(doc, {
            TableName: table,
            IndexName: 'byDay',
            KeyConditionExpression: 'gsi1pk = :p AND gsi1sk BETWEEN :from AND :to',
            ExpressionAttributeValues: {
              ':p': `${family}#${month}`,
              ':from': query.fromDay,
              ':to': `${query.toDay}\uffff`,
            },
          })
        : queryAll(doc, {
            TableName: table,
            KeyConditionExpression: 'pk = :p AND sk BETWEEN :from AND :to',
            ExpressionAttributeValues: {
              ':p': `${query.tenantId}#${family}#${month}`,
              ':from': query.fromDay,
              ':to': `${query.toDay}\uffff`,
            },
          }),
    ),
  );
  return pages.flat().map(toCostRollup);
}

function text(item: Record<string, unknown>, name: string): string {
  const value = item[name];
  return typeof value === 'string' ? value : '';
}

function toCostRollup(item: Record<string, unknown>): CostRollup {
  const n = (name: string) => Number(item[name] ?? 0);
  return {
    tenantId: text(item, 'tenantId'),
    day: text(item, 'day'),
    workflowId: text(item, 'workflowId'),
    model: text(item, 'model'),
    promptVersion: text(item, 'promptVersion'),
    accountId: text(item, 'accountId'),
    userId: text(item, 'userId'),
    costUsd: roundUsd(n('costUsd')),
    estimatedUsd: roundUsd(n('estimatedUsd')),
    calls: n('calls'),
    runs: n('runs'),
    inputTokens: n('inputTokens'),
    cachedInputTokens: n('cachedInputTokens'),
    outputTokens: n('outputTokens'),
    reasoningTokens: n('reasoningTokens'),
  };
}

/** The review cell of a draft: the tenant, workflow, prompt version and day the draft was created. */
function reviewCellKey(
  draft: Pick<Draft, 'tenantId' | 'draftId' | 'workflowId' | 'promptVersion' | 'createdAt'>,
) {
  const day = draft.createdAt.slice(0, 10);
  return {
    pk: `${draft.tenantId}#REVIEW#${day.slice(0, 7)}`,
    sk: `${day}#${draft.workflowId}#${draft.promptVersion}#${rollupShard(draft.draftId)}`,
  };
}

/**
 * The review counters a change of a draft adds, as one transaction item (null when it changes none):
 * `created` counts the draft; an escalation and a decision count once each, since the draft's
 * conditional update they go with succeeds only from the statuses that allow them.
 */
export function reviewRollupUpdate(
  table: string,
  draft: Pick<Draft, 'tenantId' | 'draftId' | 'workflowId' | 'promptVersion' | 'createdAt'>,
  change: { created?: boolean; escalated?: boolean; outcome?: Outcome | null },
) {
  const adds: string[] = [];
  const values: Record<string, number | string> = {};
  const names: Record<string, string> = { [DAY]: 'day' };
  const add = (attribute: string, value: number) => {
    const placeholder = `:v${String(adds.length)}`;
    const name = `#a${String(adds.length)}`;
    names[name] = attribute;
    adds.push(`${name} ${placeholder}`);
    values[placeholder] = value;
  };
  if (change.created) add('drafts', 1);
  if (change.escalated) add('escalated', 1);
  const outcome = change.outcome;
  if (outcome) {
    add('decided', 1);
    add(outcome.decision, 1);
    if (outcome.decision !== 'expired') {
      add('decidedByPeople', 1);
      add('edited', outcome.editDistance > 0 ? 1 : 0);
      add('editDistanceSum', outcome.editDistance);
      add('timeToDecisionSumMs', outcome.timeToDecisionMs);
      add(`${TIME_TO_DECISION_BUCKET_PREFIX}${String(timeToDecisionBucket(outcome.timeToDecisionMs))}`, 1);
    }
  }
  if (adds.length === 0) return null;
  return {
    Update: {
      TableName: table,
      Key: reviewCellKey(draft),
      UpdateExpression: `SET tenantId = :t, ${DAY} = :day, workflowId = :wf, promptVersion = :pv ADD ${adds.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: {
        ...values,
        ':t': draft.tenantId,
        ':day': draft.createdAt.slice(0, 10),
        ':wf': draft.workflowId,
        ':pv': draft.promptVersion,
      },
    },
  };
}

/** The review cells of drafts created in [fromDay, toDay]: one Query per month. */
export async function readReviewRollups(
  doc: DynamoDBDocumentClient,
  table: string,
  tenantId: string,
  fromDay: string,
  toDay: string,
): Promise<ReviewRollup[]> {
  const pages = await Promise.all(
    monthsBetween(fromDay, toDay).map((month) =>
      queryAll(doc, {
        TableName: table,
        KeyConditionExpression: 'pk = :p AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':p': `${tenantId}#REVIEW#${month}`,
          ':from': fromDay,
          ':to': `${toDay}\uffff`,
        },
      }),
    ),
  );
  return pages.flat().map((item) => {
    const n = (name: string) => Number(item[name] ?? 0);
    const timeToDecisionBuckets: Record<string, number> = {};
    for (const [name, value] of Object.entries(item)) {
      if (name.startsWith(TIME_TO_DECISION_BUCKET_PREFIX)) {
        timeToDecisionBuckets[name.slice(TIME_TO_DECISION_BUCKET_PREFIX.length)] = Number(value);
      }
    }
    return {
      tenantId: text(item, 'tenantId'),
      day: text(item, 'day'),
      workflowId: text(item, 'workflowId'),
      promptVersion: text(item, 'promptVersion'),
      drafts: n('drafts'),
      escalated: n('escalated'),
      decided: n('decided'),
      approved: n('approved'),
      rejected: n('rejected'),
      expired: n('expired'),
      decidedByPeople: n('decidedByPeople'),
      edited: n('edited'),
      editDistanceSum: n('editDistanceSum'),
      timeToDecisionSumMs: n('timeToDecisionSumMs'),
      timeToDecisionBuckets,
    };
  });
}

/**
 * The update that adds a whole review cell's counters at once (bulk loads, e.g. the bench's seed):
 * the same item and attributes as `reviewRollupUpdate` writes one draft at a time.
 */
export function reviewCellUpdate(table: string, cell: ReviewRollup, shard: number) {
  const counters: Record<string, number> = {
    drafts: cell.drafts,
    escalated: cell.escalated,
    decided: cell.decided,
    approved: cell.approved,
    rejected: cell.rejected,
    expired: cell.expired,
    decidedByPeople: cell.decidedByPeople,
    edited: cell.edited,
    editDistanceSum: cell.editDistanceSum,
    timeToDecisionSumMs: cell.timeToDecisionSumMs,
    ...Object.fromEntries(
      Object.entries(cell.timeToDecisionBuckets).map(([bucket, n]) => [
        `${TIME_TO_DECISION_BUCKET_PREFIX}${bucket}`,
        n,
      ]),
    ),
  };
  const entries = Object.entries(counters);
  return {
    Update: {
      TableName: table,
      Key: {
        pk: `${cell.tenantId}#REVIEW#${cell.day.slice(0, 7)}`,
        sk: `${cell.day}#${cell.workflowId}#${cell.promptVersion}#${String(shard)}`,
      },
      UpdateExpression: `SET tenantId = :t, ${DAY} = :day, workflowId = :wf, promptVersion = :pv ADD ${entries
        .map((_entry, index) => `#a${String(index)} :v${String(index)}`)
        .join(', ')}`,
      ExpressionAttributeNames: {
        [DAY]: 'day',
        ...Object.fromEntries(entries.map(([name], index) => [`#a${String(index)}`, name])),
      },
      ExpressionAttributeValues: {
        ':t': cell.tenantId,
        ':day': cell.day,
        ':wf': cell.workflowId,
        ':pv': cell.promptVersion,
        ...Object.fromEntries(entries.map(([, value], index) => [`:v${String(index)}`, value])),
      },
    },
  };
}
