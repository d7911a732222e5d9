import { randomUUID } from 'node:crypto';
import { StateMachine, type StateMachineDefinition as LibraryDefinition } from 'aws-local-stepfunctions';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { WorkflowEngine } from '#shared/ports/index.ts';
import type { ExecutionJournal } from './execution-journal.ts';

/** A Lambda-style task handler bound to a state, called with the state's effective input. */
export type TaskHandler = (input: unknown) => Promise<unknown>;

export interface StateMachineDefinition {
  StartAt: string;
  States: Record<string, Record<string, unknown>>;
  [key: string]: unknown;
}

type Json = Parameters<StateMachine['run']>[0];
/** The library's event type (not exported by name). */
type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

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
 *
 * The definition is validated once, when the engine is built, and the machine reused for every
 * execution. With a journal, the engine notes the state each execution entered last and its input,
 * so that after a stop (even `kill -9`) the stack can resume the run from there (`resume`).
 */
export class LocalWorkflowEngine implements WorkflowEngine {
  private readonly waiting = new Map<
    string,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  private readonly executions = new Set<Promise<unknown>>();
  private readonly aborts = new Set<() => void>();
  private readonly started = new Set<string>();
  private readonly machine: StateMachine;
  private localHandlers: Record<string, (input: Json) => Promise<Json>> | null = null;
  private stopping = false;

  constructor(
    private readonly definition: StateMachineDefinition,
    private readonly handlers: Record<string, TaskHandler>,
    private readonly waitForTokenStates: readonly string[],
    private readonly logger: Logger,
    private readonly journal: ExecutionJournal | null = null,
  ) {
    // The definition comes from the CDK template; the library validates it once, here.
    this.machine = new StateMachine(definition as unknown as LibraryDefinition, {
      validationOptions: { checkPaths: false, checkArn: false },
    });
  }

  /** Whether the definition has a state of that name (a journal may name one an older definition had). */
  hasState(state: string): boolean {
    return Object.hasOwn(this.definition.States, state);
  }

  private overrides(): Record<string, (input: Json) => Promise<Json>> {
    if (this.localHandlers) return this.localHandlers;
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
    this.localHandlers = overrides;
    return overrides;
  }

  /** A machine for a resumed execution: the validated definition, started elsewhere or with a state changed. */
  private resumedMachine(
    startAt: string,
    stateChanges: Record<string, Record<string, unknown>> = {},
  ): StateMachine {
    const definition = {
      ...this.definition,
      StartAt: startAt,
      States: { ...this.definition.States, ...stateChanges },
    };
    // The same definition validated at construction; a resumed copy's earlier states are unreachable by design.
    return new StateMachine(definition as unknown as LibraryDefinition, {
      validationOptions: { noValidate: true },
    });
  }

  private run(machine: StateMachine, input: Record<string, unknown>, runId: string, name: string): void {
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
    if (this.journal) void this.follow(this.journal, execution.eventLogs, runId);
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

  /** Journals each state the execution enters; forgets the run when the execution ends (not when stopped). */
  private async follow(
    journal: ExecutionJournal,
    events: AsyncGenerator<EventLog>,
    runId: string,
  ): Promise<void> {
    try {
      for await (const event of events) {
        if (this.stopping) return;
        if (event.type === 'StateEntered') {
          const input = event.state.input;
          if (input !== null && typeof input === 'object' && !Array.isArray(input))
            journal.record({ runId, state: event.state.name, input });
        } else if (event.type === 'ExecutionSucceeded' || event.type === 'ExecutionFailed') {
          journal.remove(runId);
          return;
        }
      }
    } catch (error) {
      this.logger.warn('Could not journal a local execution', {
        runId,
        errorName: error instanceof Error ? error.name : 'unknown',
      });
    }
  }

  startExecution(input: { tenantId: string; runId: string; workflowId: string }): Promise<void> {
    // The execution name is the run id: starting it twice is a no-op, as with ExecutionAlreadyExists.
    if (this.started.has(input.runId)) return Promise.resolve();
    this.started.add(input.runId);
    this.run(
      this.machine,
      { tenantId: input.tenantId, runId: input.runId, attempt: 1 },
      input.runId,
      input.runId,
    );
    return Promise.resolve();
  }

  /**
   * Resumes a run whose local execution was lost when the stack stopped: the same definition,
   * entered again at `state` with the input that state had (as a Step Functions retry of it would).
   */
  resume(entry: { runId: string; state: string; input: Record<string, unknown> }): void {
    this.started.add(entry.runId);
    this.run(this.resumedMachine(entry.state), entry.input, entry.runId, `${entry.runId}:resumed`);
  }

  /**
   * Resumes a run that awaited review when its execution was lost: the review state again (it
   * registers a fresh task token), waiting only for what is left until `expiresAt`. A deadline
   * that has passed times the review out at once, through the state's own timeout path.
   */
  resumeAtReview(
    state: string,
    input: { tenantId: string; runId: string; draftId: string; expiresAt?: string | null | undefined },
    now: Date = new Date(),
  ): void {
    const review = this.definition.States[state];
    const remainingMs = input.expiresAt ? Date.parse(input.expiresAt) - now.getTime() : null;
    const changes =
      review && remainingMs !== null
        ? // Fractional seconds are fine for the local engine; 1 ms is "at once".
          { [state]: { ...review, TimeoutSeconds: Math.max(remainingMs, 1) / 1000 } }
        : {};
    this.started.add(input.runId);
    this.run(
      this.resumedMachine(state, changes),
      { tenantId: input.tenantId, runId: input.runId, attempt: 1, draft: { draftId: input.draftId } },
      input.runId,
      `${input.runId}:resumed`,
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

  /** Waits until every execution in flight has ended (tests). */
  async drain(): Promise<void> {
    while (this.executions.size > 0) await Promise.allSettled([...this.executions]);
  }

  async stop(): Promise<void> {
    // Executions cut here keep their journal entries: the next start resumes them.
    this.stopping = true;
    for (const abort of this.aborts) abort();
    await Promise.allSettled([...this.executions]);
  }
}
