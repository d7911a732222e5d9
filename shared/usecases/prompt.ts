import type { ContextObject } from '../domain/context.ts';
import { estimateTokens } from '../domain/pricing.ts';
import { livePrompt, type WorkflowDefinition } from '../workflows/definition.ts';

/**
 * The user message for a model attempt: the scoped context as JSON between `<context>` lines, and on
 * a repair attempt the problems found in the previous output. Customer text stays inside the
 * context block, which the instructions declare to be data.
 */
export function buildModelInput(context: ContextObject, repairErrors: readonly string[] | null): string {
  const parts = [
    'Write the brief for the account in this context.',
    '<context>',
    // `<` escaped (still valid JSON): customer text can neither close the block nor carry special tokens.
    JSON.stringify(context).replace(/</g, '\\u003c'),
    '</context>',
  ];
  if (repairErrors && repairErrors.length > 0) {
    parts.push(
      'Your previous answer was rejected. Fix these problems and answer again with the complete brief:',
      '<validation_errors>',
      ...repairErrors.map((error) => `- ${error}`),
      '</validation_errors>',
    );
  }
  return parts.join('\n');
}

/**
 * The input-token estimate a model attempt reserves for: the live prompt's instructions and the
 * input. FetchContext computes it for the first attempt and passes it in the task input, so the
 * model call can reserve without reading the context first.
 */
export function estimateInputTokens(
  workflow: Pick<WorkflowDefinition<Record<string, unknown>, Record<string, unknown>>, 'prompts'>,
  context: ContextObject,
  repairErrors: readonly string[] | null,
): number {
  return estimateTokens(livePrompt(workflow.prompts).instructions + buildModelInput(context, repairErrors));
}
