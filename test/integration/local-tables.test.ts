import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { createTablesFromTemplates, deleteTables } from '../../infra/local/dynamo.ts';
import { TemplateSet } from '../../infra/local/template.ts';

/**
 * A table kept in a data directory from before an index was added (e.g. the status and cost
 * indexes of the workflow table) gets that index when the local stack starts on it again.
 */
describe('local tables from the templates', () => {
  it('adds the indexes of the template that a table kept from before lacks', async () => {
    const endpoint = inject('reinDynamoEndpoint');
    const client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const prefix = `rein-test-${randomBytes(4).toString('hex')}-`;
    const keys = {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' as const },
        { AttributeName: 'sk', KeyType: 'RANGE' as const },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' as const },
        { AttributeName: 'sk', AttributeType: 'S' as const },
        { AttributeName: 'costPk', AttributeType: 'S' as const },
        { AttributeName: 'costUsd', AttributeType: 'N' as const },
      ],
    };
    const templates = new TemplateSet(
      {
        Stateful: {
          Resources: {
            WorkflowTable: {
              Type: 'AWS::DynamoDB::Table',
              Properties: {
                ...keys,
                GlobalSecondaryIndexes: [
                  {
                    IndexName: 'byTenantCost',
                    KeySchema: [
                      { AttributeName: 'costPk', KeyType: 'HASH' },
                      { AttributeName: 'costUsd', KeyType: 'RANGE' },
                    ],
                    Projection: { ProjectionType: 'ALL' },
                  },
                ],
              },
            },
          },
        },
      },
      prefix,
    );
    const tableName = templates.physicalName('WorkflowTable');
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        KeySchema: keys.KeySchema,
        AttributeDefinitions: keys.AttributeDefinitions.slice(0, 2),
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    try {
      await createTablesFromTemplates(client, templates);
      const table = (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
      expect(table?.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual(['byTenantCost']);
      expect(table?.AttributeDefinitions).toEqual(
        expect.arrayContaining([{ AttributeName: 'costUsd', AttributeType: 'N' }]),
      );
    } finally {
      await deleteTables(client, [tableName]);
    }
  });
});
