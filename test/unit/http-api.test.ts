import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createApiRouter } from '#shared/http/api.ts';
import { draftView } from '#shared/domain/draft.ts';
import { errorResponse } from '#shared/http/middleware.ts';
import { FakeAccountDirectory } from '../fakes/accounts.ts';
import { apiEvent, claimsFor, ROLES_CLAIM, TENANT_CLAIM } from '../fakes/api-events.ts';
import { makeDeps } from '../fakes/deps.ts';
import {
  ACCOUNT,
  ACCOUNTS,
  ada,
  alice,
  bob,
  maria,
  seedDraft,
  sampleContext,
  seedRun,
  TENANT,
} from '../fakes/fixtures.ts';

const logger = new Logger({ serviceName: 'rein-test', logLevel: 'SILENT' });

function api() {
  const deps = makeDeps({ accounts: new FakeAccountDirectory(ACCOUNTS) });
  const router = createApiRouter(deps, {
    environment: 'test',
    tenantClaim: TENANT_CLAIM,
    rolesClaim: ROLES_CLAIM,
  });
  // The handler's middleware maps thrown errors; do the same here.
  const call = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    try {
      return await router(event);
    } catch (error) {
      return errorResponse(error, event.requestContext.requestId, logger);
    }
  };
  return { deps, call };
}

function bodyOf(response: APIGatewayProxyStructuredResultV2): unknown {
  return JSON.parse(typeof response.body === 'string' ? response.body : 'null');
}

function errorOf(response: APIGatewayProxyStructuredResultV2) {
  return { status: response.statusCode, body: bodyOf(response) };
}

const RUN_ID = 'run_01jd0000000000000000000000';

describe('API router', () => {
  it('serves health and the OpenAPI document without a token', async () => {
    const { call } = api();

    const health = await call(apiEvent({ routeKey: 'GET /v1/health' }));
    const openApi = await call(apiEvent({ routeKey: 'GET /v1/openapi.json' }));

    expect({ status: health.statusCode, body: bodyOf(health) }).toEqual({
      status: 200,
      body: { status: 'ok', environment: 'test' },
    });
    expect(openApi.statusCode).toBe(200);
    expect(bodyOf(openApi)).toMatchObject({ openapi: '3.1.0', info: { title: 'Rein API' } });
  });

  it('answers 401 on an authenticated route without claims', async () => {
    const { call } = api();

    expect(errorOf(await call(apiEvent({ routeKey: 'GET /v1/workflows' })))).toEqual({
      status: 401,
      body: {
        error: { code: 'unauthorized', message: 'A valid bearer token is required.', requestId: 'req-test' },
      },
    });
  });

  it('reads the flattened roles claim and lists the workflows', async () => {
    const { call } = api();

    const response = await call(apiEvent({ routeKey: 'GET /v1/workflows', claims: claimsFor(alice) }));

    expect({ status: response.statusCode, body: bodyOf(response) }).toEqual({
      status: 200,
      body: {
        items: [
          {
            workflowId: 'renewal-brief',
            title: 'Renewal brief',
            description: expect.any(String) as string,
          },
        ],
      },
    });
  });

  it('answers 404 for path ids that are not ours, before touching storage', async () => {
    const { deps, call } = api();

    for (const runId of ['../etc', '..%2Fetc', 'run_short', 'RUN_01JD0000000000000000000000', `${RUN_ID}x`]) {
      const response = await call(
        apiEvent({ routeKey: 'GET /v1/runs/{runId}', pathParameters: { runId }, claims: claimsFor(alice) }),
      );
      expect(errorOf(response)).toEqual({
        status: 404,
        body: { error: { code: 'not_found', message: 'Run not found.', requestId: 'req-test' } },
      });
    }
    expect(deps.runs.count('getRun')).toBe(0);
  });

  it('answers 404 for an unknown workflow and for the $default route, 405 for an unknown method', async () => {
    const { call } = api();

    const workflow = await call(
      apiEvent({
        routeKey: 'POST /v1/workflows/{workflowId}/runs',
        pathParameters: { workflowId: 'churn-brief' },
        json: { accountId: ACCOUNT },
        claims: claimsFor(alice),
      }),
    );
    const fallback = await call(apiEvent({ routeKey: '$default', claims: claimsFor(alice) }));
    const method = await call(apiEvent({ routeKey: 'DELETE /v1/runs/{runId}', claims: claimsFor(alice) }));

    expect([workflow.statusCode, fallback.statusCode, method.statusCode]).toEqual([404, 404, 405]);
  });

  it('starts a run with 202 and its location', async () => {
    const { deps, call } = api();

    const response = await call(
      apiEvent({
        routeKey: 'POST /v1/workflows/{workflowId}/runs',
        pathParameters: { workflowId: 'renewal-brief' },
        headers: { 'Idempotency-Key': 'k'.repeat(128) },
        json: { accountId: ACCOUNT },
        claims: claimsFor(alice),
      }),
    );

    const runId = deps.engine.started[0]?.runId ?? 'missing';
    expect({ status: response.statusCode, location: response.headers?.['location'] }).toEqual({
      status: 202,
      location: `/v1/runs/${runId}`,
    });
    expect(bodyOf(response)).toMatchObject({ runId, status: 'running', accountId: ACCOUNT });
  });

  it('answers 400 for an Idempotency-Key over 128 characters or with non-printable characters', async () => {
    const { deps, call } = api();

    for (const key of ['k'.repeat(129), 'has space', '']) {
      const response = await call(
        apiEvent({
          routeKey: 'POST /v1/workflows/{workflowId}/runs',
          pathParameters: { workflowId: 'renewal-brief' },
          headers: { 'idempotency-key': key },
          json: { accountId: ACCOUNT },
          claims: claimsFor(alice),
        }),
      );
      expect(errorOf(response)).toEqual({
        status: 400,
        body: {
          error: {
            code: 'invalid_request',
            message: 'The Idempotency-Key header is invalid.',
            details: [{ path: 'idempotency-key', message: 'must be 1 to 128 printable ASCII characters' }],
            requestId: 'req-test',
          },
        },
      });
    }
    expect(deps.engine.started).toEqual([]);
  });

  it('answers 415 for a run request that is not JSON', async () => {
    const { call } = api();
    const event = apiEvent({
      routeKey: 'POST /v1/workflows/{workflowId}/runs',
      pathParameters: { workflowId: 'renewal-brief' },
      headers: { 'content-type': 'text/plain' },
      claims: claimsFor(alice),
    });

    const response = await call({ ...event, body: 'accountId=acct-northwind' });

    expect(response.statusCode).toBe(415);
  });

  it('serves a draft with its version as the ETag, and hides it from another CSM', async () => {
    const { deps, call } = api();
    const draft = await seedDraft(deps, await seedRun(deps));
    const get = (principal: typeof alice) =>
      call(
        apiEvent({
          routeKey: 'GET /v1/drafts/{draftId}',
          pathParameters: { draftId: draft.draftId },
          claims: claimsFor(principal),
        }),
      );

    const own = await get(alice);
    const other = await get(bob);

    expect({ status: own.statusCode, etag: own.headers?.['etag'], body: bodyOf(own) }).toEqual({
      status: 200,
      etag: '"1"',
      // The draft, and beside it the account's name, all evidence seen (each marked cited) and the gaps.
      body: {
        ...draftView(draft),
        accountName: 'Northwind Traders',
        seenEvidence: sampleContext().items.map((item) => ({ ...item, cited: true })),
        dataGaps: [],
      },
    });
    expect(other.statusCode).toBe(404);
  });

  it('approves a draft through POST /approve and answers 409 to the second approve', async () => {
    const { deps, call } = api();
    const draft = await seedDraft(deps, await seedRun(deps));
    const approve = () =>
      call(
        apiEvent({
          routeKey: 'POST /v1/drafts/{draftId}/approve',
          pathParameters: { draftId: draft.draftId },
          claims: claimsFor(alice),
        }),
      );

    const first = await approve();
    const second = await approve();

    expect([first.statusCode, first.headers?.['etag']]).toEqual([200, '"2"']);
    expect(errorOf(second)).toEqual({
      status: 409,
      body: {
        error: {
          code: 'conflict',
          message: 'The draft is already approved.',
          details: [{ path: 'status', message: 'is approved' }],
          requestId: 'req-test',
        },
      },
    });
  });

  it('answers 403 when the caller has no role for the route', async () => {
    const { call } = api();

    const response = await call(
      apiEvent({
        routeKey: 'GET /v1/runs/{runId}/trace',
        pathParameters: { runId: RUN_ID },
        claims: claimsFor(alice),
      }),
    );

    expect(response.statusCode).toBe(403);
  });

  it('lets only tenant admins through to the webhooks and answers a deletion with 204 and no body', async () => {
    const { call } = api();
    const create = (claims: ReturnType<typeof claimsFor>) =>
      call(
        apiEvent({
          routeKey: 'POST /v1/webhooks',
          claims,
          json: { url: 'https://hooks.example.com/rein', events: ['run.failed'] },
        }),
      );

    expect((await create(claimsFor(maria))).statusCode).toBe(403);
    expect(
      (await call(apiEvent({ routeKey: 'GET /v1/webhooks', claims: claimsFor(alice) }))).statusCode,
    ).toBe(403);
    const created = await create(claimsFor(ada));
    expect(created.statusCode).toBe(201);
    const { webhookId } = bodyOf(created) as { webhookId: string };
    expect(created.headers?.['location']).toBe(`/v1/webhooks/${webhookId}`);
    const deleted = await call(
      apiEvent({
        routeKey: 'DELETE /v1/webhooks/{webhookId}',
        pathParameters: { webhookId },
        claims: claimsFor(ada),
      }),
    );
    expect({ status: deleted.statusCode, body: deleted.body }).toEqual({ status: 204, body: undefined });
    const listed = await call(apiEvent({ routeKey: 'GET /v1/webhooks', claims: claimsFor(ada) }));
    expect(bodyOf(listed)).toEqual({ items: [] });
  });

  it('treats a token for another tenant exactly like a missing run', async () => {
    const { deps, call } = api();
    const run = await seedRun(deps);
    const outsider = { sub: alice.sub, tenantId: 'globex', roles: ['manager' as const] };

    const response = await call(
      apiEvent({
        routeKey: 'GET /v1/runs/{runId}',
        pathParameters: { runId: run.runId },
        claims: claimsFor(outsider),
      }),
    );

    expect(errorOf(response)).toEqual({
      status: 404,
      body: { error: { code: 'not_found', message: 'Run not found.', requestId: 'req-test' } },
    });
    expect(TENANT).not.toBe(outsider.tenantId);
  });
});
