import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ENV_NAMES } from '../../infra/config/types.ts';
import { buildApp, resourcesOf, tableNamed, templatesOf } from './support.ts';

const reinApp = buildApp();

const KEY_SCHEMA = [
  { AttributeName: 'pk', KeyType: 'HASH' },
  { AttributeName: 'sk', KeyType: 'RANGE' },
];

function gsi(indexName: string, partitionKey: string, sortKey: string): Record<string, unknown> {
  return {
    IndexName: indexName,
    KeySchema: [
      { AttributeName: partitionKey, KeyType: 'HASH' },
      { AttributeName: sortKey, KeyType: 'RANGE' },
    ],
    Projection: { ProjectionType: 'ALL' },
  };
}

describe.each(ENV_NAMES)('the %s stateful stack', (env) => {
  const { stateful } = templatesOf(reinApp, env);

  it('holds exactly the four tables, as AWS::DynamoDB::Table (not global tables)', () => {
    expect(
      Object.keys(resourcesOf(stateful, 'AWS::DynamoDB::Table'))
        .map((id) => id.replace(/[0-9A-F]{8}$/, ''))
        .sort(),
    ).toEqual(['LedgerTable', 'RecordsTable', 'TraceTable', 'WorkflowTable']);
    stateful.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
  });

  it.each(['WorkflowTable', 'RecordsTable', 'TraceTable', 'LedgerTable'])(
    '%s is on-demand, encrypted, recoverable to a point in time and keyed by pk/sk',
    (id) => {
      const [, table] = tableNamed(stateful, id);
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        KeySchema: KEY_SCHEMA,
      });
      expect(table.Properties?.['AttributeDefinitions']).toEqual(
        expect.arrayContaining([
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ]),
      );
    },
  );

  it('indexes the workflow table by tenant, owner, due outbox work, status and run cost, and expires its items by expiresAt', () => {
    const [, table] = tableNamed(stateful, 'WorkflowTable');
    expect(table.Properties?.['GlobalSecondaryIndexes']).toEqual([
      gsi('byTenant', 'gsi1pk', 'gsi1sk'),
      gsi('byOwner', 'gsi2pk', 'gsi2sk'),
      gsi('byDue', 'duePk', 'dueSk'),
      gsi('byStatus', 'st1pk', 'stsk'),
      gsi('byOwnerStatus', 'st2pk', 'stsk'),
      gsi('byAccountStatus', 'st3pk', 'stsk'),
      gsi('byTenantCost', 'costPk', 'costUsd'),
      gsi('byCost', 'costAllPk', 'costUsd'),
    ]);
    // The cost indexes sort by the run's cost, a number.
    expect(table.Properties?.['AttributeDefinitions']).toEqual(
      expect.arrayContaining([
        { AttributeName: 'costUsd', AttributeType: 'N' },
        ...['st1pk', 'st2pk', 'st3pk', 'stsk', 'costPk', 'costAllPk'].map((name) => ({
          AttributeName: name,
          AttributeType: 'S',
        })),
      ]),
    );
    // The outbox: new items reach the event delivery function through the table's stream.
    expect(table.Properties?.['StreamSpecification']).toEqual({ StreamViewType: 'NEW_IMAGE' });
    expect(table.Properties?.['TimeToLiveSpecification']).toEqual({
      AttributeName: 'expiresAt',
      Enabled: true,
    });
    expect(table.Properties?.['AttributeDefinitions']).toEqual(
      expect.arrayContaining(
        ['gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk'].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
      ),
    );
  });

  it('gives the records table no index and no expiry', () => {
    const [, table] = tableNamed(stateful, 'RecordsTable');
    expect(table.Properties?.['GlobalSecondaryIndexes']).toBeUndefined();
    expect(table.Properties?.['TimeToLiveSpecification']).toBeUndefined();
  });

  it('expires trace spans by expiresAt and gives the trace table no index', () => {
    const [, table] = tableNamed(stateful, 'TraceTable');
    expect(table.Properties?.['TimeToLiveSpecification']).toEqual({
      AttributeName: 'expiresAt',
      Enabled: true,
    });
    expect(table.Properties?.['GlobalSecondaryIndexes']).toBeUndefined();
  });

  it('indexes the ledger by day and holds by lease end, and lets TTL remove expired rate-limit windows', () => {
    const [, table] = tableNamed(stateful, 'LedgerTable');
    expect(table.Properties?.['GlobalSecondaryIndexes']).toEqual([
      gsi('byDay', 'gsi1pk', 'gsi1sk'),
      gsi('byLease', 'gsi2pk', 'gsi2sk'),
    ]);
    expect(table.Properties?.['TimeToLiveSpecification']).toEqual({
      AttributeName: 'expiresAt',
      Enabled: true,
    });
  });

  it('creates the OpenAI key secret with no value in the template', () => {
    stateful.resourceCountIs('AWS::SecretsManager::Secret', 1);
    stateful.hasResourceProperties('AWS::SecretsManager::Secret', {
      SecretString: Match.absent(),
      GenerateSecretString: Match.anyValue(),
    });
  });
});
