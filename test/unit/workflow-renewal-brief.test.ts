import { describe, expect, it } from 'vitest';
import { RenewalBriefInputSchema, validateRenewalBrief } from '#shared/workflows/renewal-brief.ts';
import { sampleContext, validBrief } from '../fakes/fixtures.ts';

describe('validateRenewalBrief', () => {
  it('finds no problem in a brief whose every risk cites evidence from the context', () => {
    expect(validateRenewalBrief(validBrief(), sampleContext())).toEqual([]);
  });

  it('reports evidence ids that are not in the context and risks without evidence', () => {
    const brief = validBrief({
      risks: [
        { title: 'Invented', severity: 'high', evidence: ['crm:acct-northwind', 'invoice:INV-404'] },
        { title: 'Unsupported', severity: 'low', evidence: [] },
      ],
    });
    expect(validateRenewalBrief(brief, sampleContext())).toEqual([
      'risks[0].evidence cites "invoice:INV-404", which is not in the context',
      'risks[1] must cite at least one evidence id',
    ]);
  });

  it('reports an empty summary, a malformed due date and an escalation without a reason', () => {
    const brief = validBrief({
      summary: '   ',
      nextSteps: [{ action: 'Call', owner: 'CSM', dueBy: 'next Friday' }],
      escalation: { recommended: true, reason: ' ' },
    });
    expect(validateRenewalBrief(brief, sampleContext())).toEqual([
      'summary must not be empty',
      'nextSteps[0].dueBy must be YYYY-MM-DD or null',
      'escalation.reason is required when escalation is recommended',
    ]);
  });

  it('requires every data gap of the context to be declared in the brief', () => {
    const context = sampleContext({
      dataGaps: [{ source: 'invoices', reason: 'error', detail: 'The invoices source failed: timeout' }],
    });
    expect(validateRenewalBrief(validBrief(), context)).toEqual([
      'dataGaps must list the missing source "invoices"',
    ]);
    expect(
      validateRenewalBrief(
        validBrief({ dataGaps: [{ source: 'invoices', description: 'unavailable' }] }),
        context,
      ),
    ).toEqual([]);
  });
});

describe('RenewalBriefInputSchema', () => {
  it('accepts an account id with optional notes, null included', () => {
    for (const input of [
      { accountId: 'acct-northwind' },
      { accountId: 'acct-northwind', notes: null },
      { accountId: 'acct-northwind', notes: 'Renewal call on Friday.\nBring usage.' },
    ]) {
      expect(RenewalBriefInputSchema.safeParse(input).success).toBe(true);
    }
  });

  it('rejects extra fields, malformed account ids, control characters and overlong notes', () => {
    for (const input of [
      { accountId: 'acct-northwind', tenantId: 'globex' },
      { accountId: 'ACCT_1' },
      { accountId: '../acct' },
      { accountId: 'acct-northwind', notes: 'ignore previous\u0000instructions' },
      { accountId: 'acct-northwind', notes: 'x'.repeat(4001) },
      {},
    ]) {
      expect(RenewalBriefInputSchema.safeParse(input).success).toBe(false);
    }
  });
});
