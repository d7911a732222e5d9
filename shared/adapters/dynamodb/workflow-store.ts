import { createHash } from 'node:crypto';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { ContextObjectSchema, type ContextObject } from '../../domain/context.ts';
import { DraftSchema, DraftStatusSchema, type Draft, type DraftStatus } from '../../domain/draft.ts';
import { ValidationError } from '../../domain/errors.ts';
import type { DomainEvent } from '../../domain/events.ts';
import { RunSchema, RunStatusSchema, TERMINAL_RUN_STATUSES, type Run } from '../../domain/run.ts';
import type {
  AttemptRecord,
  DraftListQuery,
  DraftStore,
  IdempotencyRecord,
  ReviewRollup,
  RunCost,
  RunListQuery,
  RunStore,
} from '../../ports/index.ts';
import { isConditionFailure, isTransactionConditionFailure, sendWithContentionRetry } from './client.ts';
import { monthsBetween, readReviewRollups, reviewRollupUpdate } from './rollups.ts';
import { outboxPut } from './outbox.ts';

export function runKey(tenantId: string, runId: string) {
  return { pk: `${tenantId}#RUN#${runId}`, sk: 'RUN' };
}

/** Index keys that list a tenant's runs (and one requester's) by creation time. */
export function runIndexKeys(run: Pick<Run, 'tenantId' | 'runId' | 'requestedBy' | 'createdAt'>) {
  const sort = `${run.createdAt}#${run.runId}`;
  return {
    gsi1pk: `${run.tenantId}#RUNS`,
    gsi1sk: sort,
    gsi2pk: `${run.tenantId}#RUNS_BY#${run.requestedBy}`,
    gsi2sk: sort,
  };
}

/** Attribute names of the status indexes (byStatus, byOwnerStatus, byAccountStatus), shared by runs and drafts. */
export const STATUS_INDEXES = {
  tenant: { indexName: 'byStatus', pk: 'st1pk' },
  owner: { indexName: 'byOwnerStatus', pk: 'st2pk' },
  account: { indexName: 'byAccountStatus', pk: 'st3pk' },
} as const;
/** The sort key every status index shares: `<createdAt>#<id>`. */
export const STATUS_SORT = 'stsk';

/** The status index partitions' prefixes of runs and drafts (kept as written in stored items). */
const STATUS_PREFIXES = {
  runs: { tenant: 'RUNS', owner: 'RUNS_BY', account: 'ACCOUNT_RUNS' },
  drafts: { tenant: 'DRAFTS', owner: 'OWNER', account: 'ACCOUNT_DRAFTS' },
} as const;
type StatusKind = keyof typeof STATUS_PREFIXES;
interface StatusRef {
  tenantId: string;
  id: string;
  ownerId: string;
  accountId: string;
  createdAt: string;
}

/**
 * A run's or a draft's status index keys: the tenant's, the owner's (a run's requester) and the
 * account's items of one status, by creation time. Written with every change of the status, so a
 * filtered list reads only matches.
 */
function statusKeys(kind: StatusKind, ref: StatusRef, status: string) {
  const prefix = STATUS_PREFIXES[kind];
  return {
    st1pk: `${ref.tenantId}#${prefix.tenant}#${status}`,
    st2pk: `${ref.tenantId}#${prefix.owner}#${ref.ownerId}#${status}`,
    st3pk: `${ref.tenantId}#${prefix.account}#${ref.accountId}#${status}`,
    stsk: `${ref.createdAt}#${ref.id}`,
  };
}

/** A run's status index keys (see statusKeys). */
export function runStatusKeys(
  run: Pick<Run, 'tenantId' | 'runId' | 'requestedBy' | 'accountId' | 'createdAt'>,
  status: Run['status'],
) {
  const { runId: id, requestedBy: ownerId, tenantId, accountId, createdAt } = run;
  return statusKeys('runs', { tenantId, id, ownerId, accountId, createdAt }, status);
}

/** A draft's status index keys (see statusKeys). */
export function draftStatusKeys(
  draft: Pick<Draft, 'tenantId' | 'draftId' | 'ownerId' | 'accountId' | 'createdAt'>,
  status: DraftStatus,
) {
  const { draftId: id, ownerId, tenantId, accountId, createdAt } = draft;
  return statusKeys('drafts', { tenantId, id, ownerId, accountId, createdAt }, status);
}

/**
 * The status index and partitions a filtered list reads, one per status: the account's, else the
 * owner's, else the tenant's.
 */
function statusPartitions(
  kind: StatusKind,
  tenantId: string,
  filter: { ownerId?: string | undefined; accountId?: string | undefined },
  statuses: readonly string[],
) {
  const index =
    filter.accountId !== undefined
      ? STATUS_INDEXES.account
      : filter.ownerId !== undefined
        ? STATUS_INDEXES.owner
        : STATUS_INDEXES.tenant;
  const ref = {
    tenantId,
    id: '',
    ownerId: filter.ownerId ?? '',
    accountId: filter.accountId ?? '',
    createdAt: '',
  };
  return { index, partitions: statuses.map((status) => statusKeys(kind, ref, status)[index.pk]) };
}

/**
 * A run's cost index keys (byTenantCost, byCost; sort key: the run's `costUsd`, a number the settle
 * transaction adds to): the tenant's and every tenant's runs of a month, most expensive first.
 */
export function runCostKeys(run: Pick<Run, 'tenantId' | 'createdAt'>) {
  const month = run.createdAt.slice(0, 7);
  return { costPk: `${run.tenantId}#RUNCOST#${month}`, costAllPk: `RUNCOST#${month}` };
}

/** A run as stored: its keys and every index key with it. */
export function runItem(run: Run) {
  return {
    ...runKey(run.tenantId, run.runId),
    ...runIndexKeys(run),
    ...runStatusKeys(run, run.status),
    ...runCostKeys(run),
    ...run,
  };
}

/** A draft as stored: its keys and every index key with it. */
export function draftItem(draft: Draft) {
  const sortKey = `${draft.createdAt}#${draft.draftId}`;
  return {
    ...draftKey(draft.tenantId, draft.draftId),
    gsi1pk: `${draft.tenantId}#DRAFTS`,
    gsi1sk: sortKey,
    gsi2pk: `${draft.tenantId}#OWNER#${draft.ownerId}`,
    gsi2sk: sortKey,
    ...draftStatusKeys(draft, draft.status),
    ...draft,
  };
}

function attemptKey(tenantId: string, runId: string, attempt: number) {
  return { pk: `${tenantId}#RUN#${runId}`, sk: `ATTEMPT#${String(attempt).padStart(3, '0')}` };
}

/** The attempt record of an answered model attempt, for the gateway's settle transaction. */
/** The key of a draft item; the action store updates the actions inside it. */
export function draftKey(tenantId: string, draftId: string) {
  return { pk: `${tenantId}#DRAFT#${draftId}`, sk: 'DRAFT' };
}

/** The key of an action target's settings. */
export function actionTargetKey(tenantId: string, targetId: string) {
  return { pk: `${tenantId}#TARGET#${targetId}`, sk: 'TARGET' };
}

/** The key of a target's signing secret in the local stand-in for Secrets Manager (local stage only). */
export function localSigningSecretKey(tenantId: string, targetId: string) {
  return { pk: `${tenantId}#TARGET#${targetId}`, sk: 'SIGNING_SECRET' };
}

export function attemptRecordPut(table: string, tenantId: string, runId: string, record: AttemptRecord) {
  return {
    Put: {
      TableName: table,
      Item: {
        ...attemptKey(tenantId, runId, record.attempt),
        ...record,
        billing: JSON.stringify(record.billing),
      },
    },
  };
}

/**
 * The run's cost and model, added once per charge key (attempt key and invocation): the condition
 * makes a repeated settlement cancel the whole transaction it is part of.
 */
export function runCostUpdate(
  table: string,
  tenantId: string,
  runId: string,
  charge: { key: string; costUsd: number; model: string },
  now: Date,
) {
  return {
    Update: {
      TableName: table,
      Key: runKey(tenantId, runId),
      UpdateExpression:
        'SET costUsd = costUsd + :cost, model = :model, updatedAt = :now ADD costedAttempts :keys',
      ConditionExpression: 'attribute_exists(pk) AND NOT contains(costedAttempts, :key)',
      ExpressionAttributeValues: {
        ':cost': charge.costUsd,
        ':model': charge.model,
        ':now': now.toISOString(),
        ':keys': new Set([charge.key]),
        ':key': charge.key,
      },
    },
  };
}

/**
 * Runs, contexts, attempts, drafts, task tokens and idempotency keys in the workflow table.
 * Every partition key starts with the tenant id, so no read can cross tenants.
 *
 * | item        | pk                         | sk            |
 * |-------------|----------------------------|---------------|
 * | run         | `<t>#RUN#<runId>`          | `RUN` (GSI byTenant `<t>#RUNS`, byOwner `<t>#RUNS_BY#<sub>`, sort `<createdAt>#<runId>`) |
 * | context     | `<t>#RUN#<runId>`          | `CONTEXT`     |
 * | attempt     | `<t>#RUN#<runId>`          | `ATTEMPT#001` |
 * | draft       | `<t>#DRAFT#<draftId>`      | `DRAFT` (GSI byTenant `<t>#DRAFTS`, byOwner `<t>#OWNER#<sub>`) |
 * | task token  | `<t>#DRAFT#<draftId>`      | `TASK_TOKEN`  |
 * | idempotency | `<t>#IDEM#<sha256(key)>`   | `IDEM`        |
 *
 * Events (the outbox), webhook subscriptions and deliveries live in this table too: see `./outbox.ts`.
 * | action target | `<t>#TARGET#<targetId>`  | `TARGET` (`SIGNING_SECRET` locally: see action-store.ts) |
 */
export class DynamoWorkflowStore implements RunStore, DraftStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  private runKey(tenantId: string, runId: string) {
    return runKey(tenantId, runId);
  }
  private draftKey(tenantId: string, draftId: string) {
    return draftKey(tenantId, draftId);
  }

  async createRun(
    run: Run,
    idempotency?: { key: string; requestHash: string; expiresAt: number },
  ): Promise<{ created: true } | { created: false; existing: IdempotencyRecord }> {
    const item = runItem(run);
    if (!idempotency) {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { created: true };
    }
    const idemKey = this.idempotencyKey(run.tenantId, idempotency.key);
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: {
                  ...idemKey,
                  requestHash: idempotency.requestHash,
                  runId: run.runId,
                  expiresAt: idempotency.expiresAt,
                },
                ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
                ExpressionAttributeValues: { ':now': Math.floor(Date.parse(run.createdAt) / 1000) },
              },
            },
            {
              Put: { TableName: this.table, Item: item, ConditionExpression: 'attribute_not_exists(pk)' },
            },
          ],
        }),
      );
      return { created: true };
    } catch (error) {
      if (!isTransactionConditionFailure(error)) throw error;
      const existing = await this.doc.send(
        new GetCommand({ TableName: this.table, Key: idemKey, ConsistentRead: true }),
      );
      const item = existing.Item;
      if (!item || typeof item['requestHash'] !== 'string' || typeof item['runId'] !== 'string') throw error;
      return { created: false, existing: { requestHash: item['requestHash'], runId: item['runId'] } };
    }
  }

  private idempotencyKey(tenantId: string, key: string) {
    return { pk: `${tenantId}#IDEM#${createHash('sha256').update(key).digest('hex')}`, sk: 'IDEM' };
  }

  async findIdempotency(tenantId: string, key: string, now: Date): Promise<IdempotencyRecord | null> {
    const result = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: this.idempotencyKey(tenantId, key),
        ConsistentRead: true,
      }),
    );
    const item = result.Item;
    if (!item || typeof item['requestHash'] !== 'string' || typeof item['runId'] !== 'string') return null;
    if (Number(item['expiresAt']) < Math.floor(now.getTime() / 1000)) return null;
    return { requestHash: item['requestHash'], runId: item['runId'] };
  }

  async getRun(tenantId: string, runId: string): Promise<Run | null> {
    const result = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: this.runKey(tenantId, runId), ConsistentRead: true }),
    );
    return result.Item ? RunSchema.parse(result.Item) : null;
  }

  async updateRun(
    tenantId: string,
    runId: string,
    changes: Parameters<RunStore['updateRun']>[2],
    now: Date,
    event?: DomainEvent,
  ): Promise<Run | null> {
    const sets = ['updatedAt = :now'];
    const values: Record<string, unknown> = { ':now': now.toISOString() };
    const names: Record<string, string> = {};
    if (changes.status !== undefined) {
      sets.push('#status = :status');
      names['#status'] = 'status';
      values[':status'] = changes.status;
      // The status index keys change with the status, in the same write; they need the run's
      // requester and account, which never change.
      const current = await this.getRun(tenantId, runId);
      if (!current) return null;
      for (const [name, value] of Object.entries(runStatusKeys(current, changes.status))) {
        if (name === STATUS_SORT) continue;
        sets.push(`${name} = :${name}`);
        values[`:${name}`] = value;
      }
    }
    if (changes.draftId !== undefined) {
      sets.push('draftId = :draftId');
      values[':draftId'] = changes.draftId;
    }
    if (changes.expiresAt !== undefined) {
      sets.push('expiresAt = :expiresAt');
      values[':expiresAt'] = changes.expiresAt;
    }
    if (changes.error !== undefined) {
      sets.push('#error = :error');
      names['#error'] = 'error';
      values[':error'] = changes.error;
    }
    const guarded = changes.status !== undefined || changes.error !== undefined;
    if (guarded) {
      names['#s'] = 'status';
      TERMINAL_RUN_STATUSES.forEach((status, index) => {
        values[`:t${index}`] = status;
      });
    }
    const terminal = TERMINAL_RUN_STATUSES.map((_status, index) => `:t${index}`).join(', ');
    const condition = guarded ? `attribute_exists(pk) AND NOT (#s IN (${terminal}))` : 'attribute_exists(pk)';
    if (event !== undefined && changes.status !== undefined) {
      // The event reports the transition, so it is written only when the status really changes
      // (a retried or resumed task that finds the run there already writes no second event).
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.table,
                  Key: this.runKey(tenantId, runId),
                  UpdateExpression: `SET ${sets.join(', ')}`,
                  ConditionExpression: `${condition} AND #s <> :status`,
                  ExpressionAttributeNames: names,
                  ExpressionAttributeValues: values,
                },
              },
              outboxPut(this.table, event),
            ],
          }),
        );
        return await this.getRun(tenantId, runId);
      } catch (error) {
        if (!isTransactionConditionFailure(error)) throw error;
      }
    }
    try {
      const result = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.runKey(tenantId, runId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          // A finished run never changes again (a late task cannot reopen it); costs may still be added.
          ConditionExpression: condition,
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes ? RunSchema.parse(result.Attributes) : null;
    } catch (error) {
      if (isConditionFailure(error)) return null;
      throw error;
    }
  }

  async saveContext(tenantId: string, runId: string, context: ContextObject): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: `${tenantId}#RUN#${runId}`, sk: 'CONTEXT', context: JSON.stringify(context) },
      }),
    );
  }

  async getContext(tenantId: string, runId: string): Promise<ContextObject | null> {
    const result = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: `${tenantId}#RUN#${runId}`, sk: 'CONTEXT' },
        ConsistentRead: true,
      }),
    );
    const raw: unknown = result.Item?.['context'];
    return typeof raw === 'string' ? ContextObjectSchema.parse(JSON.parse(raw)) : null;
  }

  private attemptKey(tenantId: string, runId: string, attempt: number) {
    return attemptKey(tenantId, runId, attempt);
  }

  async getAttempt(tenantId: string, runId: string, attempt: number): Promise<AttemptRecord | null> {
    const result = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: this.attemptKey(tenantId, runId, attempt),
        ConsistentRead: true,
      }),
    );
    const item = result.Item;
    if (!item) return null;
    return {
      attempt: Number(item['attempt']),
      model: String(item['model']),
      outputText: typeof item['outputText'] === 'string' ? item['outputText'] : null,
      refusal: typeof item['refusal'] === 'string' ? item['refusal'] : null,
      finishReason: String(item['finishReason']),
      validationErrors: Array.isArray(item['validationErrors']) ? item['validationErrors'].map(String) : null,
      costUsd: Number(item['costUsd']),
      billing: JSON.parse(String(item['billing'])) as AttemptRecord['billing'],
      ...(Array.isArray(item['toolCalls'])
        ? {
            toolCalls: (item['toolCalls'] as Record<string, unknown>[]).map((call) => ({
              callId: String(call['callId']),
              name: String(call['name']),
              arguments: String(call['arguments']),
            })),
          }
        : {}),
    };
  }

  async setAttemptValidation(
    tenantId: string,
    runId: string,
    attempt: number,
    errors: string[],
  ): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: this.attemptKey(tenantId, runId, attempt),
        UpdateExpression: 'SET validationErrors = :errors',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':errors': errors },
      }),
    );
  }

  private draftItem(draft: Draft) {
    return draftItem(draft);
  }

  private toDraft(item: Record<string, unknown>): Draft {
    return DraftSchema.parse(item);
  }

  async createDraft(draft: Draft): Promise<Draft> {
    const counted = reviewRollupUpdate(this.table, draft, {
      created: true,
      escalated: draft.escalation !== null,
      outcome: draft.outcome,
    });
    try {
      // The draft and its review counters in one transaction: a draft is counted once, when written.
      await sendWithContentionRetry(this.doc, [
        {
          Put: {
            TableName: this.table,
            Item: this.draftItem(draft),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        ...(counted ? [counted] : []),
      ]);
      return draft;
    } catch (error) {
      if (!isTransactionConditionFailure(error)) throw error;
      const existing = await this.getDraft(draft.tenantId, draft.draftId);
      if (!existing) throw error;
      return existing;
    }
  }

  async getDraft(tenantId: string, draftId: string): Promise<Draft | null> {
    const result = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: this.draftKey(tenantId, draftId), ConsistentRead: true }),
    );
    return result.Item ? this.toDraft(result.Item) : null;
  }

  async listDrafts(
    tenantId: string,
    query: DraftListQuery,
  ): Promise<{ items: Draft[]; nextCursor: string | null }> {
    if (query.accountId !== undefined || (query.statuses && query.statuses.length > 0)) {
      return this.listDraftsByStatus(tenantId, query);
    }
    const byOwner = query.ownerId !== undefined;
    const partition = byOwner ? `${tenantId}#OWNER#${query.ownerId ?? ''}` : `${tenantId}#DRAFTS`;
    let startKey: Record<string, unknown> | undefined;
    if (query.cursor !== undefined) {
      startKey = decodeCursor(query.cursor);
      // A cursor is only valid within the partition it came from (no cursor can cross tenants or
      // owners) and must have exactly the key attributes of that index.
      const indexKeys = byOwner ? ['gsi2pk', 'gsi2sk'] : ['gsi1pk', 'gsi1sk'];
      const expected = ['pk', 'sk', ...indexKeys].sort();
      const pk = startKey['pk'];
      if (
        JSON.stringify(Object.keys(startKey).sort()) !== JSON.stringify(expected) ||
        startKey[indexKeys[0] ?? ''] !== partition ||
        typeof pk !== 'string' ||
        !pk.startsWith(`${tenantId}#DRAFT#`) ||
        startKey['sk'] !== 'DRAFT'
      ) {
        throw new ValidationError('The cursor is invalid.');
      }
    }
    const filter = draftFilter(query);
    const items: Draft[] = [];
    let lastKey: Record<string, unknown> | undefined = startKey;
    // With a status filter DynamoDB may return short pages; keep reading until the page is full.
    do {
      const result = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: byOwner ? 'byOwner' : 'byTenant',
          KeyConditionExpression: byOwner ? 'gsi2pk = :p' : 'gsi1pk = :p',
          ExpressionAttributeValues: { ':p': partition, ...filter.values },
          ...(filter.expression
            ? { FilterExpression: filter.expression, ExpressionAttributeNames: filter.names }
            : {}),
          ScanIndexForward: false,
          Limit: query.limit - items.length,
          ...(lastKey ? { ExclusiveStartKey: lastKey } : {}),
        }),
      );
      for (const item of result.Items ?? []) items.push(this.toDraft(item));
      lastKey = result.LastEvaluatedKey;
    } while (lastKey && items.length < query.limit);
    return { items, nextCursor: lastKey ? encodeCursor(lastKey) : null };
  }

  async listRuns(
    tenantId: string,
    query: RunListQuery,
  ): Promise<{ items: Run[]; nextCursor: string | null }> {
    if (query.accountId !== undefined || (query.statuses && query.statuses.length > 0)) {
      return this.listRunsByStatus(tenantId, query);
    }
    const byRequester = query.requestedBy !== undefined;
    const partition = byRequester ? `${tenantId}#RUNS_BY#${query.requestedBy ?? ''}` : `${tenantId}#RUNS`;
    const [pkName, skName] = byRequester ? ['gsi2pk', 'gsi2sk'] : ['gsi1pk', 'gsi1sk'];
    let lastKey: Record<string, unknown> | undefined;
    if (query.cursor !== undefined) {
      lastKey = decodeCursor(query.cursor);
      // A cursor is only valid within the partition it came from: it cannot cross tenants or requesters.
      const pk = lastKey['pk'];
      if (
        JSON.stringify(Object.keys(lastKey).sort()) !== JSON.stringify(['pk', 'sk', pkName, skName].sort()) ||
        lastKey[pkName] !== partition ||
        typeof pk !== 'string' ||
        !pk.startsWith(`${tenantId}#RUN#`) ||
        lastKey['sk'] !== 'RUN'
      ) {
        throw new ValidationError('The cursor is invalid.', [
          { path: 'cursor', message: 'not a cursor of this list' },
        ]);
      }
    }
    const filters: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':p': partition, ':from': query.fromIso, ':to': query.toIso };
    if (query.statuses && query.statuses.length > 0) {
      names['#status'] = 'status';
      const placeholders = query.statuses.map((status, index) => {
        values[`:s${String(index)}`] = status;
        return `:s${String(index)}`;
      });
      filters.push(`#status IN (${placeholders.join(', ')})`);
    }
    if (query.workflowId !== undefined) {
      filters.push('workflowId = :workflowId');
      values[':workflowId'] = query.workflowId;
    }
    if (query.accountId !== undefined) {
      filters.push('accountId = :accountId');
      values[':accountId'] = query.accountId;
    }
    const items: Run[] = [];
    do {
      const result = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: byRequester ? 'byOwner' : 'byTenant',
          KeyConditionExpression: `${pkName} = :p AND ${skName} BETWEEN :from AND :to`,
          ExpressionAttributeValues: values,
          ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
          ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
          ScanIndexForward: false,
          Limit: query.limit - items.length,
          ...(lastKey ? { ExclusiveStartKey: lastKey } : {}),
        }),
      );
      for (const item of result.Items ?? []) items.push(RunSchema.parse(item));
      lastKey = result.LastEvaluatedKey;
    } while (lastKey && items.length < query.limit);
    return { items, nextCursor: lastKey ? encodeCursor(lastKey) : null };
  }

  /**
   * Drafts of some statuses (and an account) through the status indexes: one partition per status
   * (the account's, else the owner's, else the tenant's), newest first, merged. A page reads at most
   * `limit` items per status partition (plus those an owner filter on an account's drafts skips).
   */
  private async listDraftsByStatus(
    tenantId: string,
    query: DraftListQuery,
  ): Promise<{ items: Draft[]; nextCursor: string | null }> {
    const statuses = query.statuses && query.statuses.length > 0 ? query.statuses : DraftStatusSchema.options;
    const { index, partitions } = statusPartitions('drafts', tenantId, query, statuses);
    const filter =
      query.accountId !== undefined && query.ownerId !== undefined
        ? { expression: 'ownerId = :owner', values: { ':owner': query.ownerId } }
        : undefined;
    const page = await this.mergedStatusPage(index, partitions, query, filter);
    return { items: page.items.map((item) => this.toDraft(item)), nextCursor: page.nextCursor };
  }

  /** Runs of some statuses (and an account) through the status indexes, like listDraftsByStatus. */
  private async listRunsByStatus(
    tenantId: string,
    query: RunListQuery,
  ): Promise<{ items: Run[]; nextCursor: string | null }> {
    const statuses = query.statuses && query.statuses.length > 0 ? query.statuses : RunStatusSchema.options;
    const { index, partitions } = statusPartitions(
      'runs',
      tenantId,
      {
        ownerId: query.requestedBy,
        accountId: query.accountId,
      },
      statuses,
    );
    const parts: string[] = [];
    const values: Record<string, unknown> = {};
    if (query.workflowId !== undefined) {
      parts.push('workflowId = :workflowId');
      values[':workflowId'] = query.workflowId;
    }
    if (query.accountId !== undefined && query.requestedBy !== undefined) {
      parts.push('requestedBy = :requestedBy');
      values[':requestedBy'] = query.requestedBy;
    }
    const page = await this.mergedStatusPage(
      index,
      partitions,
      { ...query, range: { from: query.fromIso, to: query.toIso } },
      parts.length > 0 ? { expression: parts.join(' AND '), values } : undefined,
    );
    return { items: page.items.map((item) => RunSchema.parse(item)), nextCursor: page.nextCursor };
  }

  /**
   * One page, newest first, of the union of some partitions of a status index. The cursor is the
   * sort key of the page's last item: the next page reads each partition below it, so the union
   * needs no per-partition state and no cursor can leave the caller's partitions.
   */
  private async mergedStatusPage(
    index: (typeof STATUS_INDEXES)[keyof typeof STATUS_INDEXES],
    partitions: readonly string[],
    query: { limit: number; cursor?: string | undefined; range?: { from: string; to: string } },
    filter: { expression: string; values: Record<string, unknown> } | undefined,
  ): Promise<{ items: Record<string, unknown>[]; nextCursor: string | null }> {
    const before = query.cursor === undefined ? undefined : decodeStatusCursor(query.cursor);
    let upper = query.range ? query.range.to : '\uffff';
    if (before !== undefined && before < upper) upper = before;
    // DynamoDB takes no empty string in a key condition: without a range, only the upper bound.
    const lower = query.range?.from;
    const pages = await Promise.all(
      partitions.map(async (partition) => {
        const found: Record<string, unknown>[] = [];
        let lastKey: Record<string, unknown> | undefined;
        do {
          const result = await this.doc.send(
            new QueryCommand({
              TableName: this.table,
              IndexName: index.indexName,
              KeyConditionExpression:
                lower === undefined
                  ? `${index.pk} = :p AND ${STATUS_SORT} <= :upper`
                  : `${index.pk} = :p AND ${STATUS_SORT} BETWEEN :lower AND :upper`,
              ExpressionAttributeValues: {
                ':p': partition,
                ':upper': upper,
                ...(lower === undefined ? {} : { ':lower': lower }),
                ...filter?.values,
              },
              ...(filter ? { FilterExpression: filter.expression } : {}),
              ScanIndexForward: false,
              // One more than a page, so the merge knows whether anything is left after it.
              Limit: query.limit + 1 - found.length,
              ...(lastKey ? { ExclusiveStartKey: lastKey } : {}),
            }),
          );
          for (const item of result.Items ?? []) {
            // BETWEEN is inclusive: the cursor's own item was on the previous page.
            if (item[STATUS_SORT] !== before) found.push(item);
          }
          lastKey = result.LastEvaluatedKey;
        } while (lastKey && found.length <= query.limit);
        return { found, more: lastKey !== undefined };
      }),
    );
    const merged = pages
      .flatMap((page) => page.found)
      .sort((a, b) => (String(a[STATUS_SORT]) < String(b[STATUS_SORT]) ? 1 : -1));
    const items = merged.slice(0, query.limit);
    const more = merged.length > query.limit || pages.some((page) => page.more);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: more && last ? encodeCursor({ before: String(last[STATUS_SORT]) }) : null,
    };
  }

  async topRunsByCost(query: {
    tenantId?: string;
    fromIso: string;
    toIso: string;
    limit: number;
  }): Promise<RunCost[]> {
    const months = monthsBetween(query.fromIso.slice(0, 10), query.toIso.slice(0, 10));
    const pages = await Promise.all(
      months.map(async (month) => {
        const keys = runCostKeys({ tenantId: query.tenantId ?? '', createdAt: `${month}-01` });
        const [indexName, pkName, partition] =
          query.tenantId === undefined
            ? ['byCost', 'costAllPk', keys.costAllPk]
            : ['byTenantCost', 'costPk', keys.costPk];
        const found: RunCost[] = [];
        let lastKey: Record<string, unknown> | undefined;
        do {
          const result = await this.doc.send(
            new QueryCommand({
              TableName: this.table,
              IndexName: indexName,
              KeyConditionExpression: `${pkName} = :p`,
              // A month partition read for a part of the month skips the runs outside it.
              FilterExpression: 'createdAt >= :from AND createdAt < :to',
              ExpressionAttributeValues: { ':p': partition, ':from': query.fromIso, ':to': query.toIso },
              ScanIndexForward: false,
              Limit: query.limit - found.length,
              ...(lastKey ? { ExclusiveStartKey: lastKey } : {}),
            }),
          );
          for (const item of result.Items ?? []) found.push(toRunCost(RunSchema.parse(item)));
          lastKey = result.LastEvaluatedKey;
        } while (lastKey && found.length < query.limit);
        return found;
      }),
    );
    return pages
      .flat()
      .sort((a, b) => b.costUsd - a.costUsd || (a.createdAt < b.createdAt ? 1 : -1))
      .slice(0, query.limit);
  }

  readReviewRollups(tenantId: string, fromDay: string, toDay: string): Promise<ReviewRollup[]> {
    return readReviewRollups(this.doc, this.table, tenantId, fromDay, toDay);
  }

  async listDraftsCreatedBetween(tenantId: string, fromIso: string, toIso: string): Promise<Draft[]> {
    const drafts: Draft[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'byTenant',
          KeyConditionExpression: 'gsi1pk = :p AND gsi1sk BETWEEN :from AND :to',
          ExpressionAttributeValues: {
            ':p': `${tenantId}#DRAFTS`,
            ':from': fromIso,
            ':to': `${toIso}\uffff`,
          },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of result.Items ?? []) {
        const draft = this.toDraft(item);
        if (draft.createdAt >= fromIso && draft.createdAt < toIso) drafts.push(draft);
      }
      startKey = result.LastEvaluatedKey;
    } while (startKey);
    return drafts;
  }

  async updateDraft(
    tenantId: string,
    draftId: string,
    expected: { version?: number; statuses: readonly DraftStatus[] },
    changes: Parameters<DraftStore['updateDraft']>[3],
    event?: DomainEvent,
  ): Promise<{ ok: true; draft: Draft } | { ok: false; current: Draft | null }> {
    const sets = ['updatedAt = :updatedAt', 'version = version + :one'];
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = { ':updatedAt': changes.updatedAt, ':one': 1 };
    if (changes.status !== undefined) {
      sets.push('#status = :newStatus');
      values[':newStatus'] = changes.status;
    }
    if (changes.content !== undefined) {
      sets.push('content = :content');
      values[':content'] = changes.content;
    }
    if (changes.outcome !== undefined) {
      sets.push('outcome = :outcome');
      values[':outcome'] = changes.outcome;
    }
    if (changes.escalation !== undefined) {
      sets.push('escalation = :escalation');
      values[':escalation'] = changes.escalation;
    }
    if (changes.actions !== undefined) {
      sets.push('actions = :actions');
      values[':actions'] = changes.actions;
    }
    if (changes.edits !== undefined) {
      sets.push('edits = :edits');
      values[':edits'] = changes.edits;
    }
    expected.statuses.forEach((status, index) => {
      values[`:s${index}`] = status;
    });
    const conditions = [
      'attribute_exists(pk)',
      `#status IN (${expected.statuses.map((_s, index) => `:s${index}`).join(', ')})`,
    ];
    if (expected.version !== undefined) {
      conditions.push('version = :expectedVersion');
      values[':expectedVersion'] = expected.version;
    }
    // A change of status moves the draft's status index keys, and a decision or escalation adds to
    // the review counters, in the same write; both need fields of the draft that never change.
    let counted: ReturnType<typeof reviewRollupUpdate> = null;
    if (changes.status !== undefined || changes.outcome || changes.escalation) {
      const current = await this.getDraft(tenantId, draftId);
      if (!current) return { ok: false, current: null };
      if (changes.status !== undefined) {
        for (const [name, value] of Object.entries(draftStatusKeys(current, changes.status))) {
          if (name === STATUS_SORT) continue;
          sets.push(`${name} = :${name}`);
          values[`:${name}`] = value;
        }
      }
      counted = reviewRollupUpdate(this.table, current, {
        escalated: changes.escalation !== undefined && changes.escalation !== null,
        outcome: changes.outcome ?? null,
      });
    }
    if (event !== undefined || counted !== null) {
      try {
        await sendWithContentionRetry(this.doc, [
          {
            Update: {
              TableName: this.table,
              Key: this.draftKey(tenantId, draftId),
              UpdateExpression: `SET ${sets.join(', ')}`,
              ConditionExpression: conditions.join(' AND '),
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: values,
            },
          },
          ...(counted ? [counted] : []),
          ...(event !== undefined ? [outboxPut(this.table, event)] : []),
        ]);
      } catch (error) {
        if (!isTransactionConditionFailure(error)) throw error;
        return { ok: false, current: await this.getDraft(tenantId, draftId) };
      }
      const updated = await this.getDraft(tenantId, draftId);
      return updated ? { ok: true, draft: updated } : { ok: false, current: null };
    }
    try {
      const result = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.draftKey(tenantId, draftId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      if (!result.Attributes) return { ok: false, current: null };
      return { ok: true, draft: this.toDraft(result.Attributes) };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // The document client does not unmarshall the item returned with a failed condition: read it again.
      return { ok: false, current: await this.getDraft(tenantId, draftId) };
    }
  }

  async saveTaskToken(tenantId: string, draftId: string, taskToken: string): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { pk: `${tenantId}#DRAFT#${draftId}`, sk: 'TASK_TOKEN', taskToken },
      }),
    );
  }

  async getTaskToken(tenantId: string, draftId: string): Promise<string | null> {
    const result = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: `${tenantId}#DRAFT#${draftId}`, sk: 'TASK_TOKEN' },
        ConsistentRead: true,
      }),
    );
    const token: unknown = result.Item?.['taskToken'];
    return typeof token === 'string' ? token : null;
  }

  async deleteTaskToken(tenantId: string, draftId: string): Promise<void> {
    await this.doc.send(
      new DeleteCommand({
        TableName: this.table,
        Key: { pk: `${tenantId}#DRAFT#${draftId}`, sk: 'TASK_TOKEN' },
      }),
    );
  }
}

/** The filter of a draft list: any of the statuses, and the account. */
function draftFilter(query: DraftListQuery): {
  expression: string | undefined;
  names: Record<string, string>;
  values: Record<string, unknown>;
} {
  const parts: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  if (query.statuses && query.statuses.length > 0) {
    names['#status'] = 'status';
    const placeholders = query.statuses.map((status, index) => {
      values[`:s${String(index)}`] = status;
      return `:s${String(index)}`;
    });
    parts.push(`#status IN (${placeholders.join(', ')})`);
  }
  if (query.accountId !== undefined) {
    names['#account'] = 'accountId';
    values[':account'] = query.accountId;
    parts.push('#account = :account');
  }
  return { expression: parts.length > 0 ? parts.join(' AND ') : undefined, names, values };
}

/** A run's cost fields: what finance may read of it. */
function toRunCost(run: Run): RunCost {
  return {
    runId: run.runId,
    tenantId: run.tenantId,
    workflowId: run.workflowId,
    accountId: run.accountId,
    requestedBy: run.requestedBy,
    status: run.status,
    model: run.model,
    costUsd: run.costUsd,
    createdAt: run.createdAt,
  };
}

/** The sort key a status-index cursor continues below (`<createdAt>#<id>`). */
function decodeStatusCursor(cursor: string): string {
  const key = decodeCursor(cursor);
  const before = key['before'];
  if (Object.keys(key).length !== 1 || typeof before !== 'string' || before.length > 300) {
    throw new ValidationError('The cursor is invalid.', [
      { path: 'cursor', message: 'not a cursor of this list' },
    ]);
  }
  return before;
}

function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length > 6 || entries.some(([, v]) => typeof v !== 'string')) throw new Error('bad key');
    return value as Record<string, unknown>;
  } catch {
    throw new ValidationError('The cursor is invalid.');
  }
}
