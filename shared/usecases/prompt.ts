import type { ContextObject } from '../domain/context.ts';

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
