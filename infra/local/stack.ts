import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { Logger } from '@aws-lambda-powertools/logger';
import { PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { parseEnv, type Env } from '#shared/config.ts';
import { createDocumentClient } from '#shared/adapters/dynamodb/client.ts';
import { StaticSecretSource } from '#shared/adapters/secrets/static-secret-source.ts';
import type { Deps } from '#shared/usecases/deps.ts';
import type { GatewayStore } from '#shared/ports/index.ts';
import { buildDeps, type SdkAdapters } from '../../functions/commons/deps.ts';
import { createApp } from '../app-factory.ts';
import type { EnvironmentConfigInput } from '../config/types.ts';
import { createTokenEndpoint, LOCAL_MACHINE_SCOPE, type LocalMachineClient } from './client-credentials.ts';
import { loadOrCreateDevIssuer, type DevIssuer } from './dev-issuer.ts';
import {
  connectDynamoLocal,
  createTablesFromTemplates,
  deleteTables,
  startDynamoLocal,
  type LocalDynamo,
} from './dynamo.ts';
import { corsOfTemplates } from './cors.ts';
import { createLocalHttpServer, type RequestLogEntry } from './http-server.ts';
import { InMemoryEventBus } from '#shared/adapters/local/event-bus.ts';
import { startOutboxDrainer } from './outbox-drainer.ts';
import { createConsoleFiles } from './console-files.ts';
import { startDemoCrm, type DemoCrm } from './demo-crm/server.ts';
import { LocalConnectorSecrets } from '#shared/adapters/secrets/connector-secrets.ts';
import { putConnector } from '#shared/usecases/connectors.ts';
import { startModelServer, type ModelServer } from './model-server/server.ts';
import type { Seed } from './seed/schema.ts';
import { loadSeed, seedAsOf } from './seed/load.ts';
import { putTenant } from '#shared/usecases/tenants.ts';
import { ExecutionJournal, type JournalEntry } from './execution-journal.ts';
import { LocalWorkflowEngine, type StateMachineDefinition, type TaskHandler } from './step-functions.ts';
import { TemplateSet, type CfnTemplate } from './template.ts';

export interface LocalStackOptions {
  /** TCP port of the API; 0 picks a free one. */
  port: number;
  /** Where DynamoDB Local and the signing key live (kept across restarts); null = in memory, temp key. */
  dataDir: string | null;
  seed: Seed | null;
  /** A real OpenAI key; when unset, the local model server answers. */
  openAiApiKey?: string | undefined;
  openAiBaseUrl?: string | undefined;
  /** Overrides the environment's review timeout (tests use a few seconds). */
  reviewTimeoutSeconds?: number;
  /** Overrides of the stage's CDK config (e.g. budgets, rate limits), applied before synthesis. */
  configOverrides?: Partial<EnvironmentConfigInput>;
  /** Extra variables for every local function, over those the template sets (e.g. MODEL_ATTEMPT_TIMEOUT_MS). */
  functionEnv?: Record<string, string>;
  /**
   * A DynamoDB Local that is already running (the integration tests share one per run), used
   * instead of starting one; `tablePrefix` keeps this stack's tables apart, and `stop` deletes them.
   * Only with `dataDir: null`.
   */
  sharedDynamo?: { endpoint: string; tablePrefix: string };
  /** Which environment's CDK definition to run locally. */
  environment?: 'dev' | 'staging' | 'prod';
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** How often the outbox drainer sweeps (default 250 ms). */
  outboxPollMs?: number;
  /** The built review console (`web/dist`) to serve at `/`; unset serves the API only. */
  consoleDir?: string;
  /** Log one line per API request (method, route, status, ms, request id); `npm start` does. */
  logRequests?: boolean;
}

export interface LocalStack {
  url: string;
  issuer: DevIssuer;
  modelServer: ModelServer | null;
  /** The demo CRM service the demo tenant `globex` reads its `crm` source from, through a connector. */
  demoCrm: DemoCrm;
  engine: LocalWorkflowEngine;
  dynamo: LocalDynamo;
  tables: Record<string, string>;
  /** Dependencies as the API function sees them, for tests that inspect stores. */
  apiDeps: Deps;
  /** Dependencies as the model-call function sees them (with the model client), for the bench. */
  modelCallDeps: Deps;
  /** What would have gone to the stage's EventBridge bus. */
  eventBus: InMemoryEventBus;
  /** Invokes a task function's handler as the state machine would (e.g. a retried ExecuteActions). */
  invokeTask(entry: string, payload: Record<string, unknown>): Promise<unknown>;
  token(claims: { sub: string; tenantId: string; roles: string[] }): Promise<string>;
  stop(): Promise<void>;
}

/** The dev issuer's identity; the dev/staging/prod stages configure their own issuers in CDK. */
export const LOCAL_ISSUER = 'https://rein.local/issuer';
export const LOCAL_AUDIENCE = 'rein-local';
/** The demo tenant whose `crm` source is read live from the demo CRM service. */
export const DEMO_CONNECTOR_TENANT = 'globex';

type LambdaHandler = (event: unknown, context: unknown) => Promise<unknown>;

/**
 * Event delivery settings of every local function: webhook receivers may listen on loopback over
 * http, retries back off from 1 s within a 30 s window, and the drainer dispatches events at once.
 */
export const LOCAL_EVENT_SETTINGS = {
  OUTBOUND_ALLOW_LOOPBACK: 'true',
  WEBHOOK_RETRY_BASE_SECONDS: '0.5',
  WEBHOOK_RETRY_MAX_DELAY_SECONDS: '5',
  WEBHOOK_RETRY_WINDOW_SECONDS: '30',
  OUTBOX_SWEEP_GRACE_SECONDS: '0',
} as const;

/** Synthesizes one stage of the CDK app (no bundling) and returns its stacks' templates. */
export function synthesizeTemplates(
  environment: 'dev' | 'staging' | 'prod',
  overrides: Partial<EnvironmentConfigInput> = {},
  namePrefix?: string,
): TemplateSet {
  const outdir = mkdtempSync(join(tmpdir(), 'rein-synth-'));
  try {
    const { stages } = createApp({
      stages: [environment],
      bundling: false,
      // The local stack serves the console itself (console-files.ts).
      console: false,
      outdir,
      overrides,
    });
    const stage = stages[environment];
    if (!stage) throw new Error(`The CDK app has no ${environment} stage.`);
    const assembly = stage.synth();
    const templates: Record<string, CfnTemplate> = {};
    for (const stack of assembly.stacks) templates[stack.stackName] = stack.template as CfnTemplate;
    return new TemplateSet(templates, namePrefix);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The review state's TimeoutSeconds: how long a draft waits for a decision (the console shows time left). */
function reviewTimeoutSeconds(definition: StateMachineDefinition, reviewState: string | undefined): number {
  const timeout = reviewState ? definition.States[reviewState]?.['TimeoutSeconds'] : undefined;
  return typeof timeout === 'number' ? timeout : 86_400;
}

/** The handler a state's Resource names: a Lambda ARN directly, or `lambda:invoke` with FunctionName. */
function functionOfState(state: Record<string, unknown>): { arn: string; viaInvoke: boolean } | null {
  const resource = typeof state['Resource'] === 'string' ? state['Resource'] : '';
  if (resource.startsWith('arn:aws:lambda:')) return { arn: resource, viaInvoke: false };
  if (resource.includes(':states:::lambda:invoke')) {
    const parameters = state['Parameters'] as Record<string, unknown> | undefined;
    const name = parameters?.['FunctionName'];
    if (typeof name === 'string') return { arn: name.replace(/:\$LATEST$/, ''), viaInvoke: true };
  }
  return null;
}

/**
 * Starts the local stack: DynamoDB Local with the CDK tables, the local model server (unless a real
 * key is given), the dev JWT issuer, every Lambda handler module bound as the template binds it,
 * the CDK state machine in aws-local-stepfunctions, demo data, and the HTTP API on `port`.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const logger = new Logger({ serviceName: 'rein-local', logLevel: options.logLevel ?? 'WARN' });
  const environment = options.environment ?? 'dev';
  const shared = options.sharedDynamo;
  if (shared && options.dataDir !== null)
    throw new Error('A shared DynamoDB Local is only for dataDir: null.');
  const templates = synthesizeTemplates(
    environment,
    {
      ...options.configOverrides,
      ...(options.reviewTimeoutSeconds === undefined
        ? {}
        : { reviewTimeoutSeconds: options.reviewTimeoutSeconds }),
    },
    shared?.tablePrefix,
  );
  const dataDir = options.dataDir === null ? null : resolve(options.dataDir);
  // The seed's machine clients, each bound to its tenant (in AWS: the stage config's machineClients).
  const machineClients: LocalMachineClient[] = (options.seed?.tenants ?? []).flatMap((tenant) =>
    (tenant.machineClients ?? []).map((client) => ({ ...client, tenantId: tenant.tenantId })),
  );
  const keyDir = dataDir ?? mkdtempSync(join(tmpdir(), 'rein-key-'));

  const dynamo = shared
    ? connectDynamoLocal(shared.endpoint)
    : await startDynamoLocal(dataDir === null ? null : join(dataDir, 'dynamodb'));
  const cleanups: (() => Promise<void>)[] = [() => dynamo.stop()];
  try {
    const tables = await createTablesFromTemplates(dynamo.client, templates);
    if (shared) cleanups.unshift(() => deleteTables(dynamo.client, Object.values(tables)));
    const modelServer = options.openAiApiKey ? null : await startModelServer({ port: 0 });
    if (modelServer) cleanups.push(() => modelServer.close());
    const openAiBaseUrl = modelServer ? modelServer.url : options.openAiBaseUrl;
    const secrets = new StaticSecretSource(options.openAiApiKey ?? 'local-model-server-key');
    const eventBus = new InMemoryEventBus();
    // The Secrets Manager port for tenants' connector secrets: one store shared by every function.
    const connectorSecrets = new LocalConnectorSecrets(
      dataDir === null ? null : join(dataDir, 'connector-secrets.json'),
    );
    // The demo "CRM" a demo tenant reads through a pull connector; its token is that connector's secret.
    const demoCrm = await startDemoCrm({ token: `demo-crm-${randomBytes(12).toString('hex')}` });
    cleanups.push(() => demoCrm.close());

    // Lambda functions: environment from the template, handler module from `rein:entry`.
    const handlersByArn = new Map<string, { handler: LambdaHandler; deps: Deps }>();
    const stateHandlers: Record<string, TaskHandler> = {};
    let definition: StateMachineDefinition | null = null;
    const waitStates: string[] = [];
    const [machine, ...others] = templates.ofType('AWS::StepFunctions::StateMachine');
    if (!machine || others.length > 0)
      throw new Error('Expected exactly one state machine in the templates.');
    const machineArn = templates.physicalName(machine[0]);
    const rawDefinition = templates.resolve(machine[1].Properties?.['DefinitionString']);
    definition = JSON.parse(
      typeof rawDefinition === 'string' ? rawDefinition : JSON.stringify(rawDefinition),
    ) as StateMachineDefinition;
    // The engine's journal of executions in flight lives with the data, so a restart can resume them.
    const journal = dataDir === null ? null : new ExecutionJournal(join(dataDir, 'executions'));
    const engine = new LocalWorkflowEngine(definition, stateHandlers, waitStates, logger, journal);

    for (const [logicalId, resource] of templates.ofType('AWS::Lambda::Function')) {
      const entry = resource.Metadata?.['rein:entry'];
      if (typeof entry !== 'string') continue;
      const variables = (templates.resolve(
        (resource.Properties?.['Environment'] as Record<string, unknown> | undefined)?.['Variables'] ?? {},
      ) ?? {}) as Record<string, unknown>;
      const env: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(variables)) env[name] = String(value);
      // Local overlay: the same variables, pointing at local engines; the secret comes through the SecretSource port.
      delete env['OPENAI_SECRET_ARN'];
      // Signing secrets of action targets use the local stand-in (LocalSigningSecrets), not Secrets Manager.
      delete env['ACTION_SECRETS_PREFIX'];
      Object.assign(env, {
        REIN_ENV: 'local',
        AWS_REGION: 'us-east-1',
        DYNAMODB_ENDPOINT: dynamo.endpoint,
        ...(openAiBaseUrl ? { OPENAI_BASE_URL: openAiBaseUrl } : {}),
        ...(env['STATE_MACHINE_ARN'] ? { STATE_MACHINE_ARN: machineArn } : {}),
        // The dev issuer replaces the stage's authorizer, so its claim names come with it.
        // Its machine clients too: the local token endpoint's scope and the seed's client → tenant bindings.
        ...(env['AUTH_TENANT_CLAIM']
          ? {
              AUTH_TENANT_CLAIM: 'tenant_id',
              AUTH_ROLES_CLAIM: 'roles',
              AUTH_MACHINE_SCOPE: LOCAL_MACHINE_SCOPE,
              AUTH_MACHINE_CLIENTS: JSON.stringify(
                machineClients.map(({ clientId, tenantId }) => ({ clientId, tenantId })),
              ),
            }
          : {}),
        // Actions, connectors and webhooks may reach receivers on loopback (the demo CRM, its action
        // receiver; deployed stages never),
        // webhook retries within seconds, no stream to wait for.
        ...LOCAL_EVENT_SETTINGS,
        LOG_LEVEL: options.logLevel ?? 'WARN',
        ...options.functionEnv,
      });
      const config = parseEnv(env);
      const module = (await import(pathToFileURL(resolve(entry)).href)) as {
        createHandler: (deps: () => Deps, env: () => Readonly<Env>) => LambdaHandler;
        adapters: SdkAdapters;
      };
      // The SDK adapters the handler module declares, with the local engine and key in their place.
      const deps = buildDeps(config, module.adapters, {
        ...(module.adapters.engine ? { engine } : {}),
        ...(module.adapters.secrets ? { secrets } : {}),
        ...(module.adapters.eventBus ? { eventBus } : {}),
        ...(module.adapters.connectorSecrets ? { connectorSecrets } : {}),
      });
      handlersByArn.set(templates.physicalName(logicalId), {
        handler: module.createHandler(
          () => deps,
          () => config,
        ),
        deps,
      });
    }

    for (const [stateName, state] of Object.entries(definition.States)) {
      if (state['Type'] !== 'Task') continue;
      const target = functionOfState(state);
      const bound = target ? handlersByArn.get(target.arn) : undefined;
      if (!target || !bound) throw new Error(`State ${stateName} names no local Lambda handler.`);
      if (typeof state['Resource'] === 'string' && state['Resource'].endsWith('.waitForTaskToken'))
        waitStates.push(stateName);
      stateHandlers[stateName] = async (input) => {
        const payload = target.viaInvoke ? (input as { Payload?: unknown }).Payload : input;
        try {
          return await bound.handler(payload, {
            awsRequestId: `local-${stateName}`,
            functionName: stateName,
          });
        } catch (error) {
          // As CloudWatch would show a failed invocation; task tokens are never part of an error message.
          logger.warn('Task failed', {
            state: stateName,
            errorName: error instanceof Error ? error.name : 'unknown',
            errorMessage: error instanceof Error ? error.message : undefined,
          });
          throw error;
        }
      };
    }

    const functionOf = (entry: string) => {
      const found = templates
        .ofType('AWS::Lambda::Function')
        .find(([, resource]) => resource.Metadata?.['rein:entry'] === entry);
      const bound = found ? handlersByArn.get(templates.physicalName(found[0])) : undefined;
      if (!bound) throw new Error(`The templates have no function for ${entry}.`);
      return bound;
    };
    const api = functionOf('functions/api/handler.ts');
    const modelCall = functionOf('functions/model-call/handler.ts');
    const events = functionOf('functions/events/handler.ts');

    const doc = createDocumentClient({ region: 'us-east-1', endpoint: dynamo.endpoint });
    const recordsTable = Object.entries(tables).find(([id]) => id.startsWith('RecordsTable'))?.[1];
    const ledgerTable = Object.entries(tables).find(([id]) => id.startsWith('LedgerTable'))?.[1];
    const workflowTable = Object.entries(tables).find(([id]) => id.startsWith('WorkflowTable'))?.[1];
    if (!recordsTable || !ledgerTable || !workflowTable)
      throw new Error('The templates lack a records, ledger or workflow table.');
    if (options.seed) {
      // Through the ingestion use case, as a tenant's machine client would push them.
      // As of when this seed was first loaded into the data directory: a restart never makes the
      // seed newer than records pushed since, so the ingestion's newest-wins keeps those.
      await loadSeed(api.deps, options.seed, {
        updatedAt: await seedAsOf(dataDir, options.seed, new Date()),
      });
      if (options.seed.tenants.some((tenant) => tenant.tenantId === DEMO_CONNECTOR_TENANT)) {
        // Configured through the connectors use case, as the tenant's admin would with PUT /v1/connectors/crm.
        await putConnector(
          api.deps,
          { sub: 'local-stack', tenantId: DEMO_CONNECTOR_TENANT, roles: ['admin'] },
          'crm',
          {
            kind: 'http',
            url: `${demoCrm.url}/crm/accounts/{accountId}`,
            auth: { type: 'bearer', secret: demoCrm.token },
            timeoutMs: 2000,
          },
        );
      }
      const month = new Date().toISOString().slice(0, 7);
      for (const tenant of options.seed.tenants) {
        // Registered through the tenants use case, as an operator would with PUT /v1/tenants/{tenantId}.
        await putTenant(
          api.deps,
          { sub: 'local-stack', tenantId: tenant.tenantId, roles: ['operator'] },
          tenant.tenantId,
          {
            name: tenant.name,
          },
        );
        // The seed's monthly budget, unless an operator already set one for this month.
        await doc
          .send(
            new PutCommand({
              TableName: ledgerTable,
              Item: {
                pk: `${tenant.tenantId}#BUDGET`,
                sk: `MONTH#${month}`,
                tenantId: tenant.tenantId,
                month,
                limitUsd: tenant.monthlyBudgetUsd,
                spentUsd: 0,
                reservedUsd: 0,
                availableUsd: tenant.monthlyBudgetUsd,
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          )
          .catch((error: unknown) => {
            if (!(error instanceof Error && error.name === 'ConditionalCheckFailedException')) throw error;
          });
      }
    }

    await recoverRuns({
      doc,
      workflowTable,
      gateway: modelCall.deps.gateway,
      engine,
      journal,
      definition,
      reviewState: waitStates[0],
      logger,
    });

    const drainer = startOutboxDrainer(events.handler, options.outboxPollMs ?? 250, logger);
    cleanups.unshift(() => drainer.stop());

    const issuer = await loadOrCreateDevIssuer({
      dir: keyDir,
      issuer: LOCAL_ISSUER,
      audience: LOCAL_AUDIENCE,
      clientAudiences: machineClients.map((client) => client.clientId),
    });
    const server: Server = createLocalHttpServer({
      tokenEndpoint: createTokenEndpoint(issuer, machineClients),
      api: api.handler as (
        event: APIGatewayProxyEventV2,
        context: unknown,
      ) => Promise<APIGatewayProxyStructuredResultV2>,
      issuer,
      // CORS as CDK configures the stage's HTTP API.
      cors: corsOfTemplates(templates),
      ...(options.logRequests ? { log: requestLogger() } : {}),
      ...(options.consoleDir === undefined
        ? {}
        : {
            console: createConsoleFiles({
              dir: options.consoleDir,
              config: {
                stage: 'local',
                apiBaseUrl: '',
                reviewTimeoutSeconds: reviewTimeoutSeconds(definition, waitStates[0]),
                auth: { mode: 'local', tenantClaim: 'tenant_id', rolesClaim: 'roles' },
              },
              users: (options.seed?.tenants ?? []).flatMap((tenant) =>
                tenant.users.map((user) => ({ ...user, tenantId: tenant.tenantId, roles: [...user.roles] })),
              ),
            }),
          }),
    });
    await new Promise<void>((resolveListen, reject) => {
      server.once('error', reject);
      server.listen(options.port, '127.0.0.1', () => {
        resolveListen();
      });
    });
    const address = server.address();
    const port = address && typeof address === 'object' ? address.port : options.port;
    cleanups.unshift(
      () =>
        new Promise<void>((resolveClose) => {
          server.closeAllConnections();
          server.close(() => {
            resolveClose();
          });
        }),
      () => engine.stop(),
    );
    if (dataDir === null) {
      cleanups.push(() => {
        rmSync(keyDir, { recursive: true, force: true });
        return Promise.resolve();
      });
    }

    return {
      url: `http://127.0.0.1:${port}`,
      issuer,
      modelServer,
      demoCrm,
      engine,
      dynamo,
      tables,
      apiDeps: api.deps,
      modelCallDeps: modelCall.deps,
      eventBus,
      invokeTask: (entry, payload) => functionOf(entry).handler(payload, {}),
      token: (claims) => issuer.sign(claims),
      stop: async () => {
        for (const cleanup of cleanups) await cleanup();
      },
    };
  } catch (error) {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    throw error;
  }
}

/** One structured line per API request, at INFO whatever the stack's log level. */
function requestLogger(): (entry: RequestLogEntry) => void {
  const logger = new Logger({ serviceName: 'rein-local-api', logLevel: 'INFO' });
  return (entry) => {
    logger.info('request', { ...entry });
  };
}

/** The error a run gets when the engine executing it stopped and it cannot be resumed safely. */
export const INTERRUPTED_ERROR = {
  Error: 'Rein.interrupted',
  Cause: 'The local stack stopped while this run was executing.',
} as const;

/** Where a failed task goes: the `States.ALL` catcher of the start state (MarkFailed) and its result path. */
function failurePathOf(definition: StateMachineDefinition): { state: string; resultPath: string } {
  const catchers = (definition.States[definition.StartAt]?.['Catch'] ?? []) as {
    ErrorEquals?: string[];
    Next?: string;
    ResultPath?: string;
  }[];
  const all = catchers.find((catcher) => catcher.ErrorEquals?.includes('States.ALL'));
  if (!all?.Next || all.ResultPath !== '$.error')
    throw new Error('The start state of the definition catches no States.ALL into $.error.');
  return { state: all.Next, resultPath: all.ResultPath };
}

/**
 * On start: every run the engine was executing when the stack stopped (Ctrl-C or `kill -9`) goes
 * on. A run awaiting review waits again for what is left of its review (`expiresAt`). A run in
 * flight is resumed at the state it had entered, with that state's input (as Step Functions
 * retries a task); a run whose progress is unknown (no readable journal entry, or a state the
 * definition no longer has) fails with `interrupted` through MarkFailed, the path every failed
 * run takes.
 *
 * Before any run goes on, the budget holds of the runs in flight are ended: their leases belonged to
 * invocations of the stopped process, which are all dead now whatever `leaseUntil` says (a Lambda's
 * lease outlives it only because AWS gives no such certainty). Answers kept on a hold are charged,
 * other holds released, through the protocol's own sweep; a resumed task then takes a fresh hold
 * instead of waiting out a dead one.
 */
async function recoverRuns(options: {
  doc: DynamoDBDocumentClient;
  workflowTable: string;
  gateway: GatewayStore;
  engine: LocalWorkflowEngine;
  journal: ExecutionJournal | null;
  definition: StateMachineDefinition;
  reviewState: string | undefined;
  logger: Logger;
}): Promise<void> {
  const { doc, workflowTable, gateway, engine, journal, reviewState, logger } = options;
  const toResume: (() => void)[] = [];
  const tenantsInFlight = new Set<string>();
  const journalled = journal?.entries() ?? new Map<string, JournalEntry | null>();
  const failure = failurePathOf(options.definition);
  const resumable = (
    entry: JournalEntry | null | undefined,
    tenantId: string,
    runId: string,
  ): entry is JournalEntry =>
    entry !== null &&
    entry !== undefined &&
    engine.hasState(entry.state) &&
    entry.input['tenantId'] === tenantId &&
    entry.input['runId'] === runId;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await doc.send(
      new ScanCommand({
        TableName: workflowTable,
        FilterExpression: 'sk = :run AND #s IN (:r, :a, :e)',
        ExpressionAttributeNames: { '#s': 'status' },
        ExpressionAttributeValues: {
          ':run': 'RUN',
          ':r': 'running',
          ':a': 'awaiting_review',
          ':e': 'escalated',
        },
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      const { tenantId, runId, draftId, status, expiresAt } = item as Record<string, unknown>;
      if (typeof tenantId !== 'string' || typeof runId !== 'string') continue;
      const entry = journalled.get(runId);
      journalled.delete(runId);
      if (status !== 'running') {
        if (reviewState && typeof draftId === 'string')
          engine.resumeAtReview(reviewState, {
            tenantId,
            runId,
            draftId,
            expiresAt: typeof expiresAt === 'string' ? expiresAt : null,
          });
        continue;
      }
      tenantsInFlight.add(tenantId);
      if (resumable(entry, tenantId, runId)) {
        logger.info('Resuming a run interrupted by a stop', { runId, state: entry.state });
        toResume.push(() => {
          engine.resume(entry);
        });
      } else {
        logger.warn('Failing a run interrupted by a stop: its progress is unknown', { runId });
        toResume.push(() => {
          engine.resume({
            runId,
            state: failure.state,
            input: { tenantId, runId, attempt: 1, error: { ...INTERRUPTED_ERROR } },
          });
        });
      }
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  // No invocation of the stopped process is alive: every lease it held has ended.
  const afterEveryLease = new Date(8.64e15);
  for (const tenantId of tenantsInFlight) {
    const ended = await gateway.sweepExpired(tenantId, afterEveryLease);
    if (ended.length > 0)
      logger.info('Ended holds left by the stopped process', { tenantId, holds: ended.length });
  }
  for (const resume of toResume) resume();
  // Runs that had ended while their execution still had work to do (RecordOutcome or MarkFailed
  // sweeping the run's reservations): that work is idempotent, so it is entered again.
  for (const [runId, entry] of journalled) {
    const tenantId = entry?.input['tenantId'];
    if (typeof tenantId === 'string' && resumable(entry, tenantId, runId)) engine.resume(entry);
    else journal?.remove(runId);
  }
}
