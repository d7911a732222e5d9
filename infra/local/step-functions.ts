import { randomUUID } from 'node:crypto';
import { StateMachine, type StateMachineDefinition as LibraryDefinition } from 'aws-local-stepfunctions';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { WorkflowEngine } from '#shared/ports/index.ts';

/** A Lambda-style task handler bound to a state, called with the state's effective input. */
export type TaskHandler = (input: unknown) => Promise<unknown>;

export interface StateMachineDefinition {
  StartAt: string;
  States: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

type Json = Parameters<StateMachine['run']>[0];

function toJson(value: unknown): Json {
  return JSON.parse(JSON.stringify(value ?? null)) as Json;
}

/** Thrown for a task token this engine does not hold, like Step Functions' `TaskDoesNotExist`. */
export class TaskDoesNotExistError extends Error {
  constructor() {
    super('The task token is not held by a running execution.');
    this.name = 'TaskDoesNotExist';
  }
}

/**
 * Runs the CDK-synthesized state machine with `aws-local-stepfunctions`. Every Task state is bound
 * to the real handler module of the Lambda its Resource names. `.waitForTaskToken` is not native
 * there, so the review state's handler registers the token (as the real Lambda does) and then
 * returns a promise held here until SendTaskSuccess/Failure, the state's TimeoutSeconds, or stop.
 */
export class LocalWorkflowEngine implements WorkflowEngine {
  private readonly waiting = new Map<
    string,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  private readonly executions = new Set<Promise<unknown>>();
  private readonly aborts = new Set<() => void>();
  private readonly started = new Set<string>();

  constructor(
    private readonly definition: StateMachineDefinition,
    private readonly handlers: Record<string, TaskHandler>,
    private readonly waitForTokenStates: readonly string[],
    private readonly logger: Logger,
  ) {}

  private overrides(): Record<string, (input: Json) => Promise<Json>> {
    // Results cross a JSON boundary, as a Lambda's do.
    const overrides: Record<string, (input: Json) => Promise<Json>> = {};
    for (const [state, handler] of Object.entries(this.handlers)) {
      overrides[state] = async (input) => toJson(await handler(input));
    }
    for (const state of this.waitForTokenStates) {
      const register = this.handlers[state];
      if (!register) throw new Error(`No handler is bound to ${state}.`);
      overrides[state] = async (input) => {
        // `lambda:invoke` states carry the payload under `Payload`, as the Lambda Invoke API does.
        const carrier = input as { taskToken?: unknown; Payload?: { taskToken?: unknown } };
        const token = carrier.Payload?.taskToken ?? carrier.taskToken;
        if (typeof token !== 'string') throw new Error(`${state} was started without a task token.`);
        const held = new Promise<unknown>((resolve, reject) => {
          this.waiting.set(token, { resolve, reject });
        });
        try {
          await register(input);
        } catch (error) {
          this.waiting.delete(token);
          throw error;
        }
        return toJson(await held);
      };
    }
    return overrides;
  }

  private run(
    definition: StateMachineDefinition,
    input: Record<string, unknown>,
    name: string,
    validate = true,
  ): void {
    // The definition comes from the CDK template; the library validates it again (except for a
    // resumed copy, whose earlier states are unreachable by design).
    const machine = new StateMachine(definition as unknown as LibraryDefinition, {
      validationOptions: validate ? { checkPaths: false, checkArn: false } : { noValidate: true },
    });
    const execution = machine.run(toJson(input), {
      overrides: { taskResourceLocalHandlers: this.overrides() },
      noThrowOnAbort: true,
      context: {
        Execution: {
          Id: `local:${name}`,
          Name: name,
          Input: toJson(input),
          StartTime: new Date().toISOString(),
        },
        // Each read of $$.Task.Token is a fresh opaque token, as in Step Functions.
        Task: {
          get Token() {
            return randomUUID();
          },
        },
      },
    });
    this.aborts.add(execution.abort);
    const done = execution.result
      .catch((error: unknown) => {
        // A failed execution already ran MarkFailed; only engine faults are logged here.
        this.logger.warn('Local execution ended with an error', {
          execution: name,
          errorName: error instanceof Error ? error.name : 'unknown',
          cause:
            error instanceof Error && error.cause instanceof Error
              ? `${error.cause.name}: ${error.cause.message}`
              : undefined,
        });
      })
      .finally(() => {
        this.executions.delete(done);
        this.aborts.delete(execution.abort);
      });
    this.executions.add(done);
  }

  startExecution(input: { tenantId: string; runId: string; workflowId: string }): Promise<void> {
    // The execution name is the run id: starting it twice is a no-op, as with ExecutionAlreadyExists.
    if (this.started.has(input.runId)) return Promise.resolve();
    this.started.add(input.runId);
    this.run(this.definition, { tenantId: input.tenantId, runId: input.runId, attempt: 1 }, input.runId);
    return Promise.resolve();
  }

  /**
   * Resumes a run whose local execution was lost (the stack stopped while it awaited review): the
   * same definition, started at the review state, which registers a fresh task token.
   */
  resumeAtReview(state: string, input: { tenantId: string; runId: string; draftId: string }): void {
    this.started.add(input.runId);
    this.run(
      { ...this.definition, StartAt: state },
      { tenantId: input.tenantId, runId: input.runId, attempt: 1, draft: { draftId: input.draftId } },
      `${input.runId}:resumed`,
      false,
    );
  }

  sendTaskSuccess(taskToken: string, output: Record<string, unknown>): Promise<void> {
    const waiter = this.waiting.get(taskToken);
    if (!waiter) return Promise.reject(new TaskDoesNotExistError());
    this.waiting.delete(taskToken);
    waiter.resolve(output);
    return Promise.resolve();
  }

  sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void> {
    const waiter = this.waiting.get(taskToken);
    if (!waiter) return Promise.reject(new TaskDoesNotExistError());
    this.waiting.delete(taskToken);
    const failure = new Error(cause);
    failure.name = error;
    waiter.reject(failure);
    return Promise.resolve();
  }

  /** Runs still in flight (for tests and shutdown). */
  get inFlight(): number {
    return this.executions.size;
  }

  async stop(): Promise<void> {
    for (const abort of this.aborts) abort();
    await Promise.allSettled([...this.executions]);
  }
}
