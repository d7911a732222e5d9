import type { components } from './api/schema.gen.ts';

/**
 * The renewal brief as the API documents a draft's content (components.schemas.RenewalBrief); the
 * actions the model proposed are the draft's `actions`, never part of the content.
 */
export type Brief = Omit<components['schemas']['RenewalBrief'], 'proposedActions'>;
export type Risk = Brief['risks'][number];
export type Severity = Risk['severity'];
export type Health = Brief['health'];

export const SEVERITIES: readonly Severity[] = ['high', 'medium', 'low'];
export const HEALTHS: readonly Health[] = ['healthy', 'at_risk', 'critical'];

const isString = (value: unknown): value is string => typeof value === 'string';
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A draft's content read as a brief; null when it does not have the brief's shape. */
export function asBrief(content: unknown): Brief | null {
  if (!isRecord(content)) return null;
  const { summary, health, risks, openQuestions, nextSteps, dataGaps, escalation } = content;
  if (!isString(summary) || !HEALTHS.includes(health as Health)) return null;
  if (!Array.isArray(risks) || !Array.isArray(openQuestions) || !Array.isArray(nextSteps)) return null;
  if (!Array.isArray(dataGaps) || !isRecord(escalation)) return null;
  const riskOk = risks.every(
    (risk) =>
      isRecord(risk) &&
      isString(risk['title']) &&
      SEVERITIES.includes(risk['severity'] as Severity) &&
      Array.isArray(risk['evidence']) &&
      risk['evidence'].every(isString),
  );
  const stepOk = nextSteps.every(
    (step) =>
      isRecord(step) &&
      isString(step['action']) &&
      isString(step['owner']) &&
      (step['dueBy'] === null || isString(step['dueBy'])),
  );
  const gapOk = dataGaps.every(
    (gap) => isRecord(gap) && isString(gap['source']) && isString(gap['description']),
  );
  if (!riskOk || !stepOk || !gapOk || !openQuestions.every(isString)) return null;
  if (typeof escalation['recommended'] !== 'boolean') return null;
  return content as Brief;
}

const severityRank: Record<Severity, number> = { high: 3, medium: 2, low: 1 };

/** The highest severity among a brief's risks (0 when it has none). */
export function topSeverity(brief: Brief | null): number {
  if (!brief) return 0;
  return Math.max(0, ...brief.risks.map((risk) => severityRank[risk.severity]));
}

/** A brief as readable lines, the unit the diff compares. */
export function briefToText(brief: Brief): string {
  const lines = [`Summary: ${brief.summary}`, `Health: ${brief.health}`, ''];
  lines.push('Risks:');
  for (const risk of brief.risks)
    lines.push(`- [${risk.severity}] ${risk.title} (evidence: ${risk.evidence.join(', ') || 'none'})`);
  lines.push('', 'Open questions:');
  for (const question of brief.openQuestions) lines.push(`- ${question}`);
  lines.push('', 'Next steps:');
  for (const step of brief.nextSteps)
    lines.push(`- ${step.action} — ${step.owner}${step.dueBy ? ` by ${step.dueBy}` : ''}`);
  lines.push('', 'Data gaps:');
  for (const gap of brief.dataGaps) lines.push(`- ${gap.source}: ${gap.description}`);
  lines.push(
    '',
    `Escalation recommended: ${brief.escalation.recommended ? 'yes' : 'no'}${brief.escalation.reason ? ` — ${brief.escalation.reason}` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}
