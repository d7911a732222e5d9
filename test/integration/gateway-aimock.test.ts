import { LLMock, type ErrorResponse } from '@copilotkit/aimock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RenewalBriefSchema, type RenewalBrief } from '#shared/domain/brief.ts';
import { RenewalBriefOutputSchema, type RenewalBriefOutput } from '#shared/workflows/renewal-brief.ts';
import { costOf, priceFor } from '#shared/domain/pricing.ts';
import { RunSchema, type Run } from '#shared/domain/run.ts';
import type { Budget, LedgerEntry } from '#shared/ports/index.ts';
import type { LocalStack } from '../../infra/local/stack.ts';
import { clientsFor, startTestStack, waitForRun, type ApiClient, type UserName } from './local-stack.ts';

/**
 * The same gateway against an independent OpenAI-compatible peer, @copilotkit/aimock, instead of
 * Rein's own local model server: fixtures answer the Responses API per account (matched on the
 * account id in the user message), some after scripted 429s and 5xx, some with output that is
 * not a brief. The peer reports the usage each fixture sets, so charges are known exactly.
 */

const PRIMARY = 'gpt-4.1-mini';
const FALLBACK = 'gpt-4o-mini';
const TENANT = 'acme';
const API_KEY = 'test-key';
/** The usage every answer of the peer reports. */
const USAGE = { input_tokens: 1_200, output_tokens: 300 };

let mock: LLMock;
let stack: LocalStack;
let users: Record<UserName, ApiClient>;

/**
 * A model answer that satisfies the output schema and cites the account's CRM record, which is in
 * its context. It proposes no action.
 */
function briefFor(accountId: string, dataGaps: RenewalBrief['dataGaps'] = []): RenewalBriefOutput {
  return RenewalBriefOutputSchema.parse({
    summary: `Renewal brief for ${accountId}: steady usage, renewal on track.`,
    health: 'healthy',
    risks: [
      { title: 'Renewal owner should confirm the budget', severity: 'low', evidence: [`crm:${accountId}`] },
    ],
    openQuestions: ['Who signs the renewal this year?'],
    nextSteps: [{ action: 'Schedule the renewal call', owner: 'Account CSM', dueBy: null }],
    dataGaps,
    escalation: { recommended: false, reason: null },
    proposedActions: [],
  });
}

function answer(content: string) {
  return { content, usage: USAGE };
}

function providerError(status: number, message: string, retryAfter?: number): ErrorResponse {
  return {
    status,
    error: { message, type: status === 429 ? 'requests' : 'server_error' },
    ...(retryAfter === undefined ? {} : { retryAfter }),
  };
}

beforeAll(async () => {
  // Only the key Rein's secret source hands out is accepted, so the key demonstrably reaches the peer.
  mock = new LLMock({ port: 0, host: '127.0.0.1', auth: { apiKeys: [API_KEY] } });
  mock.on({ userMessage: 'acct-northwind' }, answer(JSON.stringify(briefFor('acct-northwind'))));
  // A 500, then the brief.
  mock.on({ userMessage: 'acct-contoso', sequenceIndex: 0 }, providerError(500, 'The server had an error.'));
  mock.on({ userMessage: 'acct-contoso' }, answer(JSON.stringify(briefFor('acct-contoso'))));
  // A 429 asking to wait one second, then the brief (Hooli's usage source is broken: a declared gap).
  mock.on({ userMessage: 'acct-hooli', sequenceIndex: 0 }, providerError(429, 'Rate limit reached.', 1));
  mock.on(
    { userMessage: 'acct-hooli' },
    answer(
      JSON.stringify(briefFor('acct-hooli', [{ source: 'usage', description: 'The usage source failed.' }])),
    ),
  );
  // A 429 asking to wait a minute, longer than the gateway's cap, then the brief (Vandelay has no invoices).
  mock.on({ userMessage: 'acct-vandelay', sequenceIndex: 0 }, providerError(429, 'Rate limit reached.', 60));
  mock.on(
    { userMessage: 'acct-vandelay' },
    answer(
      JSON.stringify(
        briefFor('acct-vandelay', [{ source: 'invoices', description: 'No invoice on record.' }]),
      ),
    ),
  );
  // Prose instead of the structured brief, every time.
  mock.on({ userMessage: 'acct-initech' }, answer('Sure! Initech looks healthy and will likely renew.'));
  await mock.start();

  stack = await startTestStack({
    openAiApiKey: API_KEY,
    openAiBaseUrl: `${mock.url}/v1`,
    configOverrides: { rateLimits: { requestsPerMinute: 600, tokensPerMinute: 10_000_000 } },
  });
  users = await clientsFor(stack);
});

afterAll(async () => {
  await stack.stop();
  await mock.stop();
});

beforeEach(() => {
  mock.clearRequests();
});

const JournalBodySchema = z.looseObject({
  model: z.string(),
  messages: z.array(z.looseObject({ content: z.unknown() })),
});

/** Calls the peer received per model for requests about `accountId`, and how it answered them. */
function peerCalls(accountId: string): { calls: Record<string, number>; statuses: number[] } {
  const calls: Record<string, number> = {};
  const statuses: number[] = [];
  for (const entry of mock.getRequests()) {
    if (!entry.path.endsWith('/responses')) continue;
    const body = JournalBodySchema.safeParse(entry.body);
    if (!body.success || !JSON.stringify(body.data.messages).includes(accountId)) continue;
    calls[body.data.model] = (calls[body.data.model] ?? 0) + 1;
    statuses.push(entry.response.status);
  }
  return { calls, statuses };
}

function currentMonth(): string {
  return new Date().toISOString().slice(0, 7);
}

async function budget(): Promise<Budget> {
  return stack.apiDeps.ledger.getBudget(TENANT, currentMonth());
}

async function entriesOf(runId: string): Promise<LedgerEntry[]> {
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
  const entries = await stack.apiDeps.ledger.listEntries({
    fromDay: day(-1),
    toDay: day(1),
    tenantId: TENANT,
  });
  return entries.filter((entry) => entry.runId === runId).sort((a, b) => (a.at < b.at ? -1 : 1));
}

interface Outcome {
  run: Run;
  calls: Record<string, number>;
  statuses: number[];
  entries: LedgerEntry[];
  budgetBefore: Budget;
  budgetAfter: Budget;
}

async function brief(accountId: string): Promise<Outcome> {
  const budgetBefore = await budget();
  const started = await users.carol.post('/v1/workflows/renewal-brief/runs', { accountId });
  expect(started.status, started.text).toBe(202);
  const runId = String(started.body['runId']);
  const run = RunSchema.parse(await waitForRun(users.carol, runId, ['awaiting_review', 'failed']));
  return {
    run,
    ...peerCalls(accountId),
    entries: await entriesOf(runId),
    budgetBefore,
    budgetAfter: await budget(),
  };
}

/** Every answer the peer sent (status 200) is one ledger entry at the peer's usage, charged once. */
function expectEveryAnswerChargedOnce(outcome: Outcome, billedModels: string[]): void {
  const { entries, run, statuses, budgetBefore, budgetAfter } = outcome;
  expect(statuses.filter((status) => status === 200)).toHaveLength(billedModels.length);
  expect(entries.map((entry) => entry.model)).toEqual(billedModels);
  for (const entry of entries) {
    expect(entry).toMatchObject({
      inputTokens: USAGE.input_tokens,
      cachedInputTokens: 0,
      outputTokens: USAGE.output_tokens,
    });
    const price = priceFor(entry.model, new Date(entry.at));
    expect(entry.costUsd).toBe(
      costOf(
        {
          inputTokens: USAGE.input_tokens,
          cachedInputTokens: 0,
          outputTokens: USAGE.output_tokens,
          reasoningTokens: 0,
        },
        price,
      ),
    );
  }
  const charged = entries.reduce((sum, entry) => sum + entry.costUsd, 0);
  expect(run.costUsd).toBeCloseTo(charged, 6);
  expect(budgetAfter.spentUsd - budgetBefore.spentUsd).toBeCloseTo(charged, 6);
  expect(budgetAfter.reservedUsd).toBe(budgetBefore.reservedUsd);
}

describe('model gateway against @copilotkit/aimock', () => {
  it("drafts the peer's brief for review, with its evidence from the context, and charges its usage", async () => {
    const outcome = await brief('acct-northwind');

    expect(outcome.calls).toEqual({ [PRIMARY]: 1 });
    expect(outcome.run, JSON.stringify(outcome.run)).toMatchObject({
      status: 'awaiting_review',
      model: PRIMARY,
    });
    const draft = await users.carol.get(`/v1/drafts/${String(outcome.run.draftId)}`);
    expect(draft.status, draft.text).toBe(200);
    // The draft holds the brief; the (empty) proposed actions became the draft's action list.
    expect(draft.body['content']).toEqual(RenewalBriefSchema.parse(briefFor('acct-northwind')));
    expect(draft.body['actions']).toEqual([]);
    expect((draft.body['evidence'] as { id: string }[]).map((item) => item.id)).toEqual([
      'crm:acct-northwind',
    ]);
    expectEveryAnswerChargedOnce(outcome, [PRIMARY]);
  });

  it('retries the same model after a 500 from the peer and charges only the answer', async () => {
    const outcome = await brief('acct-contoso');

    expect(outcome.statuses).toEqual([500, 200]);
    expect(outcome.calls).toEqual({ [PRIMARY]: 2 });
    expect(outcome.run, JSON.stringify(outcome.run)).toMatchObject({
      status: 'awaiting_review',
      model: PRIMARY,
    });
    expectEveryAnswerChargedOnce(outcome, [PRIMARY]);
  });

  it("waits out the peer's short Retry-After and retries the same model", async () => {
    const outcome = await brief('acct-hooli');

    expect(outcome.statuses).toEqual([429, 200]);
    expect(outcome.calls).toEqual({ [PRIMARY]: 2 });
    expect(outcome.run, JSON.stringify(outcome.run)).toMatchObject({
      status: 'awaiting_review',
      model: PRIMARY,
    });
    expectEveryAnswerChargedOnce(outcome, [PRIMARY]);
  });

  it("falls back to gpt-4o-mini at once when the peer's Retry-After exceeds the cap", async () => {
    const outcome = await brief('acct-vandelay');

    expect(outcome.statuses).toEqual([429, 200]);
    expect(outcome.calls).toEqual({ [PRIMARY]: 1, [FALLBACK]: 1 });
    expect(outcome.run, JSON.stringify(outcome.run)).toMatchObject({
      status: 'awaiting_review',
      model: FALLBACK,
    });
    expectEveryAnswerChargedOnce(outcome, [FALLBACK]);
  });

  it('fails the run invalid_model_output when the answer and its repair are not a brief, charging both', async () => {
    const outcome = await brief('acct-initech');

    expect(outcome.calls).toEqual({ [PRIMARY]: 2 });
    expect(outcome.run, JSON.stringify(outcome.run)).toMatchObject({
      status: 'failed',
      error: { code: 'invalid_model_output' },
      draftId: null,
    });
    expectEveryAnswerChargedOnce(outcome, [PRIMARY, PRIMARY]);
  });
});
