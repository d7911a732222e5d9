import { NotFoundError } from '../domain/errors.ts';
import type { WorkflowDefinition } from './definition.ts';
import { renewalBrief } from './renewal-brief.ts';

/** Definitions are stored with erased input/output types; use cases re-parse with each definition's schemas. */
export type AnyWorkflow = WorkflowDefinition<Record<string, unknown>, Record<string, unknown>>;

export const WORKFLOWS: ReadonlyMap<string, AnyWorkflow> = new Map<string, AnyWorkflow>([
  [renewalBrief.id, renewalBrief],
]);

export function getWorkflow(workflowId: string): AnyWorkflow {
  const workflow = WORKFLOWS.get(workflowId);
  if (!workflow) throw new NotFoundError('Workflow');
  return workflow;
}
