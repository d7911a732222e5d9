import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ActionRecordSchema, type ActionExecution, type ActionRecord } from '../../domain/actions.ts';
import { ActionTargetSchema, type ActionTarget } from '../../domain/action-targets.ts';
import type { ActionStore, ActionTargetStore, SigningSecretStore } from '../../ports/index.ts';
import { isConditionFailure } from './client.ts';
import { actionTargetKey, draftKey, localSigningSecretKey } from './workflow-store.ts';

/**
 * Every execution-status write of an action, in one module (review decisions are written with the
 * draft's own status by `DynamoWorkflowStore.updateDraft`). Actions live in the draft item's
 * `actions` list; each write addresses one element and is conditional on its id and status, so
 * concurrent or retried executions cannot send an approved action twice or finish it twice.
 */
export class DynamoActionStore implements ActionStore, ActionTargetStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  private async indexOf(tenantId: string, draftId: string, actionId: string): Promise<number | null> {
    const result = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: draftKey(tenantId, draftId),
        ProjectionExpression: 'actions',
        ConsistentRead: true,
      }),
    );
    const actions: unknown = result.Item?.['actions'];
    if (!Array.isArray(actions)) return null;
    const index = actions.findIndex(
      (action: unknown) =>
        typeof action === 'object' &&
        action !== null &&
        (action as Record<string, unknown>)['actionId'] === actionId,
    );
    return index < 0 ? null : index;
  }

  async claimAction(
    tenantId: string,
    draftId: string,
    actionId: string,
    leaseUntil: Date,
    now: Date,
  ): Promise<ActionRecord | null> {
    const index = await this.indexOf(tenantId, draftId, actionId);
    if (index === null) return null;
    const path = `actions[${index}]`;
    try {
      const result = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: draftKey(tenantId, draftId),
          UpdateExpression: `SET ${path}.#status = :executing, ${path}.execution = :execution`,
          // approved → executing, or a takeover of an executing action whose lease expired.
          ConditionExpression:
            `${path}.actionId = :id AND (${path}.#status = :approved OR ` +
            `(${path}.#status = :executing AND ${path}.execution.leaseUntil < :now))`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':id': actionId,
            ':approved': 'approved',
            ':executing': 'executing',
            ':now': now.toISOString(),
            ':execution': {
              attempts: 0,
              leaseUntil: leaseUntil.toISOString(),
              finishedAt: null,
              lastStatus: null,
              responseId: null,
              error: null,
            } satisfies ActionExecution,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const actions: unknown = result.Attributes?.['actions'];
      return Array.isArray(actions) ? ActionRecordSchema.parse(actions[index]) : null;
    } catch (error) {
      if (isConditionFailure(error)) return null;
      throw error;
    }
  }

  async finishAction(
    tenantId: string,
    draftId: string,
    actionId: string,
    claim: { leaseUntil: string },
    outcome: { status: 'executed' | 'failed'; execution: ActionExecution },
  ): Promise<boolean> {
    const index = await this.indexOf(tenantId, draftId, actionId);
    if (index === null) return false;
    const path = `actions[${index}]`;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: draftKey(tenantId, draftId),
          UpdateExpression: `SET ${path}.#status = :status, ${path}.execution = :execution`,
          ConditionExpression: `${path}.actionId = :id AND ${path}.#status = :executing AND ${path}.execution.leaseUntil = :lease`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':id': actionId,
            ':executing': 'executing',
            ':lease': claim.leaseUntil,
            ':status': outcome.status,
            ':execution': outcome.execution,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async putTarget(target: ActionTarget): Promise<{ created: boolean; target: ActionTarget }> {
    const key = actionTargetKey(target.tenantId, target.targetId);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...key, ...target },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { created: true, target };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    // It exists: keep who created it and when, replace the settings.
    const result = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: key,
        UpdateExpression: 'SET #url = :url, description = :description, updatedAt = :updatedAt',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#url': 'url' },
        ExpressionAttributeValues: {
          ':url': target.url,
          ':description': target.description,
          ':updatedAt': target.updatedAt,
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { created: false, target: ActionTargetSchema.parse(result.Attributes) };
  }

  async getTarget(tenantId: string, targetId: string): Promise<ActionTarget | null> {
    const result = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: actionTargetKey(tenantId, targetId),
        ConsistentRead: true,
      }),
    );
    return result.Item ? ActionTargetSchema.parse(result.Item) : null;
  }
}

/**
 * The local stage's stand-in for Secrets Manager: the signing secret in its own item of the
 * workflow table, apart from the target's settings and never read by the API. Deployed stages use
 * `SecretsManagerSigningSecrets`.
 */
export class LocalSigningSecrets implements SigningSecretStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async putSigningSecret(tenantId: string, targetId: string, secret: string): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: { ...localSigningSecretKey(tenantId, targetId), secret },
      }),
    );
  }

  async getSigningSecret(tenantId: string, targetId: string): Promise<string | null> {
    const result = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: localSigningSecretKey(tenantId, targetId),
        ConsistentRead: true,
      }),
    );
    const secret: unknown = result.Item?.['secret'];
    return typeof secret === 'string' ? secret : null;
  }
}
