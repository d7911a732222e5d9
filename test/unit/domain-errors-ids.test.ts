import { describe, expect, it } from 'vitest';
import {
  BudgetExceededError,
  NotFoundError,
  RateLimitedError,
  ReinError,
  ValidationError,
  WorkflowStepError,
} from '#shared/domain/errors.ts';
import { ID_PATTERN, newId } from '#shared/domain/ids.ts';
import { ModelRateLimitedError } from '#shared/domain/model.ts';

describe('errors', () => {
  it('names each error after its class and keeps code, status and details', () => {
    const error = new ValidationError('bad', [{ path: 'accountId', message: 'required' }]);
    expect({
      name: error.name,
      code: error.code,
      status: error.status,
      message: error.message,
      details: error.details,
      isRein: error instanceof ReinError,
    }).toEqual({
      name: 'ValidationError',
      code: 'invalid_request',
      status: 400,
      message: 'bad',
      details: [{ path: 'accountId', message: 'required' }],
      isRein: true,
    });
  });

  it('words a not-found error without naming the tenant', () => {
    expect(new NotFoundError('Draft').message).toBe('Draft not found.');
  });

  it('names a workflow step error Rein.<code> so Step Functions reports the code', () => {
    const cause = new BudgetExceededError({
      budget: 'run_cost_cap',
      limitUsd: 0.5,
      spentUsd: 0.45,
      attemptUsd: 0.1,
    });
    const error = new WorkflowStepError('budget_exceeded', 'No room.', cause);
    expect({ name: error.name, code: error.code, status: error.status, cause: error.cause }).toEqual({
      name: 'Rein.budget_exceeded',
      code: 'budget_exceeded',
      status: 500,
      cause,
    });
  });

  it('sends Retry-After in whole seconds, at least 1', () => {
    expect([new RateLimitedError(0.2).headers, new RateLimitedError(12.1).headers]).toEqual([
      { 'Retry-After': '1' },
      { 'Retry-After': '13' },
    ]);
  });

  it('marks provider rate limits as retryable with the provider wait', () => {
    const error = new ModelRateLimitedError(1500, 'req_1');
    expect({
      retryable: error.retryable,
      retryAfterMs: error.retryAfterMs,
      id: error.providerRequestId,
    }).toEqual({ retryable: true, retryAfterMs: 1500, id: 'req_1' });
  });
});

describe('newId', () => {
  it('makes ids the API accepts in paths, with the prefix', () => {
    const id = newId('run', Date.parse('2026-10-01T09:00:00Z'));
    expect(id).toMatch(ID_PATTERN);
    expect(id.startsWith('run_')).toBe(true);
  });

  it('sorts ids by creation time', () => {
    const earlier = newId('drf', Date.parse('2026-10-01T09:00:00Z'));
    const later = newId('drf', Date.parse('2026-10-01T09:00:00.001Z'));
    expect(earlier < later).toBe(true);
  });

  it('makes distinct ids within the same millisecond', () => {
    const at = Date.parse('2026-10-01T09:00:00Z');
    expect(new Set(Array.from({ length: 100 }, () => newId('run', at))).size).toBe(100);
  });

  it('rejects path values that are not our ids', () => {
    for (const value of [
      '../etc',
      'run_',
      'RUN_01JD0000000000000000000000',
      'run_01jd0000000000000000000000/x',
    ]) {
      expect(ID_PATTERN.test(value)).toBe(false);
    }
  });
});
