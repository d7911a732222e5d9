import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalStack } from '../../infra/local/stack.ts';
import {
  clientsFor,
  startTestStack,
  waitForRun,
  type ApiClient,
  type UserName,
} from '../integration/local-stack.ts';
import { expectAccessible, launchChromium, newPage, screenshot, signInAs } from './browser.ts';

const CONSOLE_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

let stack: LocalStack;
let browser: Browser;
let api: Record<UserName, ApiClient>;
/** The run the first scenario approves; ops opens its trace. */
let approvedRunId = '';

async function draftReadyFor(
  user: ApiClient,
  accountId: string,
  key: string,
): Promise<{ runId: string; draftId: string }> {
  const started = await user.post(
    '/v1/workflows/renewal-brief/runs',
    { accountId },
    { 'idempotency-key': key },
  );
  expect(started.status).toBe(202);
  const runId = String(started.body['runId']);
  const run = await waitForRun(user, runId, ['awaiting_review']);
  return { runId, draftId: String(run['draftId']) };
}

/** Chooses "Don't send" on every proposed action not decided yet. */
async function rejectUndecided(page: Page): Promise<void> {
  const groups = page.getByRole('radiogroup');
  for (let index = 0; index < (await groups.count()); index += 1) {
    const group = groups.nth(index);
    if (await group.getByLabel('Send', { exact: true }).isChecked()) continue;
    await group.getByLabel("Don't send", { exact: true }).check();
  }
}

beforeAll(async () => {
  if (!existsSync(`${CONSOLE_DIR}/index.html`)) throw new Error('Build the console first: npm run web:build');
  stack = await startTestStack({ consoleDir: CONSOLE_DIR });
  api = await clientsFor(stack);
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

describe('review console in headless Chromium on the local stack', () => {
  it('a CSM signs in, requests a brief, opens its draft from the inbox, edits the summary, sees the diff and approves; the run ends approved', async () => {
    const { page, context, problems } = await newPage(browser);
    await signInAs(page, stack.url, 'Alice Nguyen');
    await screenshot(page, '01-inbox-empty');
    await expectAccessible(page, 'inbox');

    await page.getByLabel('Account id').fill('acct-contoso');
    await page.getByRole('button', { name: 'Request brief' }).click();
    const openDraft = page.getByRole('link', { name: 'Open draft for acct-contoso' });
    await openDraft.waitFor({ timeout: 30_000 });
    // The draft is also in the inbox list.
    await page.getByRole('link', { name: 'acct-contoso', exact: true }).first().waitFor();
    await screenshot(page, '02-inbox-with-draft');
    await expectAccessible(page, 'inbox with a draft');
    await openDraft.click();

    // The heading names the account as its CRM record does, from the draft's own answer.
    await page.getByRole('heading', { name: /Renewal brief: acct-contoso · Contoso/ }).waitFor();
    await page.getByText('No edits yet: the content is the model').waitFor();
    const draftId = decodeURIComponent(new URL(page.url()).hash.split('/')[2]?.split('?')[0] ?? '');
    await expect
      .poll(() => page.getByText('No changes: the content is the model’s original.').count())
      .toBe(1);
    await expectAccessible(page, 'review');

    const summary = page.getByRole('textbox', { name: 'Summary', exact: true });
    const before = await summary.inputValue();
    await summary.fill(`${before} Checked with the account team.`);
    await expect
      .poll(() => page.locator('pre.diff ins').allTextContents())
      .toContainEqual(expect.stringContaining('Checked'));
    await screenshot(page, '03-review-edited-diff');
    await expectAccessible(page, 'review with diff');

    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved version 2.').waitFor();
    await page.getByRole('region', { name: 'Edit history' }).getByText('Version 2 by csm-alice').waitFor();
    await page.getByLabel('Reason (optional)').fill('Accurate after edit');
    // Approving with a proposed action undecided is refused on screen, naming it.
    const proposed = await page.getByRole('radiogroup').count();
    expect(proposed).toBeGreaterThan(0);
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: 'Approve or reject every proposed action first' })
      .waitFor();
    // Send the first CRM task with an edited title; reject the rest.
    const task = page.locator('fieldset.action', { hasText: 'crm.create_task' }).first();
    const taskLegend = (await task.locator('legend').innerText()).split(' ').slice(0, 3).join(' ');
    const title = task.getByRole('textbox', { name: `${taskLegend} title` });
    await title.fill('Call the sponsor about the renewal (edited)');
    await task.getByLabel('Send', { exact: true }).check();
    await rejectUndecided(page);
    await screenshot(page, '03b-review-actions-decided');
    await expectAccessible(page, 'review with actions decided');
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await page.getByText(/Approved\. The draft is now approved\./).waitFor();
    await screenshot(page, '04-review-approved');

    const draft = await api.alice.get(`/v1/drafts/${draftId}`);
    expect(draft.body['status']).toBe('approved');
    expect(String((draft.body['content'] as Record<string, unknown>)['summary'])).toContain(
      'Checked with the account team.',
    );
    const actions = draft.body['actions'] as {
      type: string;
      args: Record<string, unknown>;
      decision: { decision: string } | null;
    }[];
    const sent = actions.filter((action) => action.decision?.decision === 'approve');
    expect(sent.map((action) => [action.type, action.args['title']])).toEqual([
      ['crm.create_task', 'Call the sponsor about the renewal (edited)'],
    ]);
    expect(actions.every((action) => action.decision !== null)).toBe(true);
    approvedRunId = String(draft.body['runId']);
    const run = await waitForRun(api.alice, approvedRunId, ['approved']);
    expect(run['status']).toBe('approved');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('a CSM escalates with a reason; the manager finds it under Escalations and approves it with the keyboard', async () => {
    const { runId, draftId } = await draftReadyFor(api.alice, 'acct-northwind', 'e2e-escalate');
    const csm = await newPage(browser);
    await signInAs(csm.page, stack.url, 'Alice Nguyen');
    // j/k move in the inbox, Enter opens the selected draft.
    await csm.page.getByRole('link', { name: 'acct-northwind', exact: true }).waitFor();
    const rows = await csm.page.locator('tbody tr[data-row]').count();
    for (let i = 0; i < rows; i += 1) await csm.page.keyboard.press('j');
    for (let i = 0; i < rows; i += 1) await csm.page.keyboard.press('k');
    const target = csm.page.locator('tbody tr[data-row]', { hasText: 'acct-northwind' });
    const index = Number(await target.getAttribute('data-row'));
    for (let i = 0; i < index; i += 1) await csm.page.keyboard.press('j');
    await csm.page.keyboard.press('Enter');
    await csm.page.getByRole('heading', { name: /Renewal brief: acct-northwind/ }).waitFor();
    expect(csm.page.url()).toContain(draftId);
    await csm.page.getByLabel('Reason (optional)').fill('Discount above my authority');
    await csm.page.getByRole('button', { name: 'Escalate', exact: true }).click();
    await csm.page.getByText(/Escalated\. The draft is now escalated\./).waitFor();
    await screenshot(csm.page, '05-csm-escalated');
    await expectAccessible(csm.page, 'review escalated (CSM)');
    expect(await csm.page.getByRole('button', { name: 'Approve', exact: true }).isDisabled()).toBe(true);
    expect(csm.problems).toEqual([]);
    await csm.context.close();

    const manager = await newPage(browser);
    await signInAs(manager.page, stack.url, 'Carol Jensen');
    await manager.page.getByRole('link', { name: 'Escalations' }).click();
    await manager.page.getByRole('heading', { name: 'Escalated drafts' }).waitFor();
    await manager.page.getByText('csm-alice: Discount above my authority').waitFor();
    await screenshot(manager.page, '06-manager-escalations');
    await expectAccessible(manager.page, 'escalations');
    await manager.page.locator('tbody tr[data-row]', { hasText: 'acct-northwind' }).getByRole('link').click();
    await manager.page.getByRole('heading', { name: /Renewal brief: acct-northwind/ }).waitFor();
    await manager.page.keyboard.press('?');
    await manager.page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
    await screenshot(manager.page, '07-shortcuts');
    await expectAccessible(manager.page, 'shortcuts dialog');
    await manager.page.keyboard.press('Escape');
    await manager.page.getByRole('dialog').waitFor({ state: 'hidden' });
    await rejectUndecided(manager.page);
    await manager.page.getByRole('heading', { name: /Renewal brief: acct-northwind/ }).click();
    await manager.page.keyboard.press('a');
    await manager.page.getByText(/Approved\. The draft is now approved\./).waitFor();
    await screenshot(manager.page, '08-manager-approved');
    const run = await waitForRun(api.carol, runId, ['approved']);
    expect(run['status']).toBe('approved');
    expect(manager.problems).toEqual([]);
    await manager.context.close();
  });

  it('a stale edit shows the conflict and what changed, and Reload shows the current version', async () => {
    const { draftId } = await draftReadyFor(api.alice, 'acct-hooli', 'e2e-stale');
    const { page, context, problems } = await newPage(browser);
    await signInAs(page, stack.url, 'Alice Nguyen');
    await page.goto(`${stack.url}/#/drafts/${draftId}`);
    await page.getByRole('heading', { name: /Renewal brief: acct-hooli/ }).waitFor();
    // Data gaps stand out (the demo's usage source is broken for this account).
    await page.getByText('Data gaps — the brief was written without:').waitFor();
    await page.getByRole('textbox', { name: 'Summary', exact: true }).fill('My edit from the browser.');

    // Meanwhile the same draft changes through the API (another tab, another reviewer).
    const current = await api.alice.get(`/v1/drafts/${draftId}`);
    const content = {
      ...(current.body['content'] as Record<string, unknown>),
      summary: 'Edited elsewhere first.',
    };
    const edited = await api.alice.patch(`/v1/drafts/${draftId}`, { content }, { 'if-match': '"1"' });
    expect(edited.status).toBe(200);

    await page.getByRole('button', { name: 'Save', exact: true }).click();
    const conflict = page.getByRole('alert').filter({ hasText: 'This draft changed while you were editing' });
    await conflict.waitFor();
    await expect
      .poll(() => conflict.locator('ins').allTextContents())
      .toContainEqual(expect.stringContaining('elsewhere'));
    await screenshot(page, '09-conflict');
    await expectAccessible(page, 'conflict');
    expect(await page.getByRole('button', { name: 'Approve', exact: true }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Reload' }).click();
    await expect
      .poll(() => page.getByRole('textbox', { name: 'Summary', exact: true }).inputValue())
      .toBe('Edited elsewhere first.');
    expect((await api.alice.get(`/v1/drafts/${draftId}`)).body['version']).toBe(2);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('finance sees cost per day as a chart and downloads a CSV whose total equals the ledger', async () => {
    const { page, context, problems } = await newPage(browser);
    await signInAs(page, stack.url, 'fin-erin');
    await page.getByRole('heading', { name: 'Finance' }).waitFor();
    await page.getByRole('img', { name: /Cost per day from/ }).waitFor();
    await page.getByRole('region', { name: 'Per model' }).waitFor();
    await page.getByRole('img', { name: /^acme: spent/ }).waitFor();
    await screenshot(page, '10-finance');
    await expectAccessible(page, 'finance');
    expect(await page.getByRole('navigation', { name: 'Main' }).getByRole('link').allTextContents()).toEqual([
      'Finance',
    ]);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const path = await download.path();
    const csv = await readFile(path, 'utf8');
    const [header, ...rows] = csv.trim().split('\n');
    const costColumn = header?.split(',').indexOf('cost') ?? -1;
    expect(costColumn).toBeGreaterThan(0);
    const csvTotal = rows.reduce((sum, row) => sum + Number(row.split(',')[costColumn]), 0);

    const today = new Date().toISOString().slice(0, 10);
    const ledger = await api.erin.get(`/v1/ledger?from=${today.slice(0, 8)}01&to=${today}&groupBy=day`);
    expect(ledger.status).toBe(200);
    const totalUsd = Number(ledger.body['totalUsd']);
    expect(totalUsd).toBeGreaterThan(0);
    expect(csvTotal).toBeCloseTo(totalUsd, 6);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('ops opens a run and sees its trace as a waterfall', async () => {
    expect(approvedRunId).not.toBe('');
    const { page, context, problems } = await newPage(browser);
    await signInAs(page, stack.url, 'ops-frank');
    const nav = page.getByRole('navigation', { name: 'Main' });
    expect(await nav.getByRole('link').allTextContents()).toEqual(['Finance', 'Ops']);
    await nav.getByRole('link', { name: 'Ops' }).click();
    await page.getByRole('heading', { name: 'Ops' }).waitFor();
    // The runs list (GET /v1/runs) of the tenant opens the run's trace.
    await page.getByRole('textbox', { name: 'Runs of tenant' }).fill('acme');
    await page.getByRole('combobox', { name: 'Status' }).selectOption({ label: 'Decided' });
    await page.getByRole('link', { name: approvedRunId }).click();
    const trace = page.getByRole('region', { name: /Trace/ });
    await trace.waitFor();
    await trace.getByRole('cell', { name: 'model_attempt' }).first().waitFor();
    expect(await page.getByText('approved', { exact: true }).count()).toBeGreaterThan(0);
    await screenshot(page, '11-ops-trace');
    await expectAccessible(page, 'ops trace');
    expect(problems).toEqual([]);
    await context.close();
  });
});
