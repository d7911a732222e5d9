import type { components } from './api/schema.gen.ts';

export type ProposedAction = components['schemas']['Draft']['actions'][number];
type ActionDecision = NonNullable<components['schemas']['ApproveRequest']['actions']>[number];

/** The reviewer's choice per action: a decision (or none yet) and the arguments as edited text. */
export type ActionChoices = Record<
  string,
  { decision: 'approve' | 'reject' | null; args: Record<string, string> }
>;

export function argText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Choices as the draft stands: decisions already taken, arguments as they are now. */
export function initialChoices(actions: readonly ProposedAction[]): ActionChoices {
  return Object.fromEntries(
    actions.map((action) => [
      action.actionId,
      {
        decision: action.decision?.decision ?? null,
        args: Object.fromEntries(Object.entries(action.args).map(([name, value]) => [name, argText(value)])),
      },
    ]),
  );
}

/**
 * The `actions` of an approval: a decision for every proposed action, with the edited arguments
 * when they differ from the proposed ones; or the problem to show when one is undecided or an
 * edited non-text argument is not valid JSON.
 */
export function actionDecisions(
  actions: readonly ProposedAction[],
  choices: ActionChoices,
): { actions: ActionDecision[] } | { problem: string } {
  const decided: ActionDecision[] = [];
  const undecided: string[] = [];
  for (const [index, action] of actions.entries()) {
    if (action.status !== 'proposed') continue;
    const choice = choices[action.actionId];
    if (!choice?.decision) {
      undecided.push(`${index + 1}. ${action.type}`);
      continue;
    }
    if (choice.decision === 'reject') {
      decided.push({ actionId: action.actionId, decision: 'reject' });
      continue;
    }
    const args: Record<string, unknown> = {};
    let edited = false;
    for (const [name, original] of Object.entries(action.args)) {
      const text = choice.args[name] ?? argText(original);
      if (text === argText(original)) {
        args[name] = original;
        continue;
      }
      edited = true;
      if (typeof original === 'string') args[name] = text;
      else {
        try {
          args[name] = JSON.parse(text) as unknown;
        } catch {
          return { problem: `Action ${index + 1} (${action.type}): ${name} is not valid JSON.` };
        }
      }
    }
    decided.push({ actionId: action.actionId, decision: 'approve', ...(edited ? { args } : {}) });
  }
  if (undecided.length > 0)
    return { problem: `Approve or reject every proposed action first: ${undecided.join(', ')}.` };
  return { actions: decided };
}
