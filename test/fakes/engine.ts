import type { WorkflowEngine } from '#shared/ports/index.ts';

/** Records what the use cases ask of the workflow engine; can be told to fail. */
export class RecordingEngine implements WorkflowEngine {
  readonly started: { tenantId: string; runId: string; workflowId: string }[] = [];
  readonly successes: { taskToken: string; output: Record<string, unknown> }[] = [];
  readonly failures: { taskToken: string; error: string; cause: string }[] = [];

  constructor(private readonly failWith: { startExecution?: Error; sendTaskSuccess?: Error } = {}) {}

  startExecution(input: { tenantId: string; runId: string; workflowId: string }): Promise<void> {
    if (this.failWith.startExecution) return Promise.reject(this.failWith.startExecution);
    this.started.push({ ...input });
    return Promise.resolve();
  }

  sendTaskSuccess(taskToken: string, output: Record<string, unknown>): Promise<void> {
    if (this.failWith.sendTaskSuccess) return Promise.reject(this.failWith.sendTaskSuccess);
    this.successes.push({ taskToken, output: structuredClone(output) });
    return Promise.resolve();
  }

  sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void> {
    this.failures.push({ taskToken, error, cause });
    return Promise.resolve();
  }
}
