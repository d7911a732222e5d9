import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it } from 'vitest';
import { LocalWorkflowEngine, type StateMachineDefinition } from '../../infra/local/step-functions.ts';
import { buildApp, onlyResource, resolveDefinition, templatesOf } from './support.ts';

const { stateless } = templatesOf(buildApp(), 'dev');
const [, machine] = onlyResource(stateless, 'AWS::StepFunctions::StateMachine');
const synthesized = resolveDefinition(machine.Properties?.['DefinitionString']) as StateMachineDefinition;

describe('the synthesized definition in the local engine', () => {
  it('cuts a hung model step at its TimeoutSeconds and fails the run as model_unavailable', async () => {
    // The same definition with a 1 s model step, so the test does not wait out the real deadline.
    const definition: StateMachineDefinition = {
      ...synthesized,
      States: { ...synthesized.States, CallModel: { ...synthesized.States['CallModel'], TimeoutSeconds: 1 } },
    };
    const failures: unknown[] = [];
    const engine = new LocalWorkflowEngine(
      definition,
      {
        FetchContext: () => Promise.resolve({ items: 1, workflowId: 'renewal-brief', inputTokens: 100 }),
        CallModel: () => new Promise<never>(() => undefined),
        MarkFailed: (input) => {
          failures.push((input as { error?: unknown }).error);
          return Promise.resolve({});
        },
      },
      [],
      new Logger({ logLevel: 'ERROR' }),
    );
    await engine.startExecution({ tenantId: 't1', runId: 'run-1', workflowId: 'renewal-brief' });
    await engine.drain();
    expect(failures).toEqual([
      { Error: 'Rein.model_unavailable', Cause: 'The model step ran out of its deadline.' },
    ]);
  });

  it('validates the definition once, when the engine is built, not on every execution', () => {
    const broken: StateMachineDefinition = {
      ...synthesized,
      States: { ...synthesized.States, CallModel: { ...synthesized.States['CallModel'], Next: 'Nowhere' } },
    };
    expect(() => new LocalWorkflowEngine(broken, {}, [], new Logger({ logLevel: 'ERROR' }))).toThrow();
  });
});
