/**
 * Rein's error hierarchy. Every error a caller can see carries a stable `code` and an HTTP status;
 * the single mapping to HTTP responses lives in `shared/http/middleware.ts`.
 *
 * Caller errors (4xx) are exposed with their message; system errors (5xx) are logged and
 * answered with a generic message and the request id only.
 */
import { budgetRefusalDetails, budgetRefusalMessage, type BudgetRefusal } from './budget-refusal.ts';

/** One problem with a request: where (a dotted path into the body, query or state) and what. */
export interface ErrorDetail {
  path: string;
  message: string;
}

export class ReinError extends Error {
  readonly code: string;
  readonly status: number;
  /** Always `[{path, message}]`, for schema and business-rule problems alike, so forms can map them to fields. */
  readonly details: readonly ErrorDetail[] | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: string,
    status: number,
    message: string,
    options: { cause?: unknown; details?: readonly ErrorDetail[]; headers?: Record<string, string> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }
}

/** The challenge every 401 carries (RFC 6750). */
export const WWW_AUTHENTICATE = 'Bearer realm="rein"';

export class ValidationError extends ReinError {
  constructor(message: string, details?: readonly ErrorDetail[]) {
    super('invalid_request', 400, message, { details });
  }
}
export class UnauthorizedError extends ReinError {
  constructor(message = 'A valid bearer token is required.') {
    super('unauthorized', 401, message, { headers: { 'WWW-Authenticate': WWW_AUTHENTICATE } });
  }
}
export class ForbiddenError extends ReinError {
  constructor(
    message = 'Your roles do not allow this action.',
    details?: { path: string; message: string }[],
  ) {
    super('forbidden', 403, message, { details });
  }
}
export class NotFoundError extends ReinError {
  /** The message never names the tenant, so another tenant's resource reads exactly like a missing one. */
  constructor(resource: string) {
    super('not_found', 404, `${resource} not found.`);
  }
}
export class ConflictError extends ReinError {
  constructor(message: string, details?: readonly ErrorDetail[]) {
    super('conflict', 409, message, { details });
  }
}
export class PreconditionFailedError extends ReinError {
  constructor(message: string, details?: readonly ErrorDetail[]) {
    super('precondition_failed', 412, message, { details });
  }
}
export class PreconditionRequiredError extends ReinError {
  constructor(message: string) {
    super('precondition_required', 428, message);
  }
}
export class PayloadTooLargeError extends ReinError {
  constructor(limitBytes: number, message = `The request body exceeds ${limitBytes} bytes.`) {
    super('payload_too_large', 413, message);
  }
}
export class UnsupportedMediaTypeError extends ReinError {
  constructor() {
    super('unsupported_media_type', 415, 'The request body must be JSON (Content-Type: application/json).');
  }
}
export class NotAcceptableError extends ReinError {
  constructor(message: string) {
    super('not_acceptable', 406, message);
  }
}
export class BudgetExceededError extends ReinError {
  /** Which budget blocked (`tenant_month` or `run_cost_cap`) and its figures; `details` say the same. */
  readonly refusal: BudgetRefusal;
  constructor(refusal: BudgetRefusal) {
    super('budget_exceeded', 402, budgetRefusalMessage(refusal), {
      details: budgetRefusalDetails(refusal),
    });
    this.refusal = refusal;
  }
}
export class RateLimitedError extends ReinError {
  constructor(retryAfterSeconds: number) {
    super('rate_limited', 429, 'Too many requests; retry later.', {
      headers: { 'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    });
  }
}
export class MethodNotAllowedError extends ReinError {
  constructor() {
    super('method_not_allowed', 405, 'This method is not allowed on this resource.');
  }
}
export class InternalError extends ReinError {
  constructor(message: string, cause?: unknown) {
    super('internal_error', 500, message, { cause });
  }
}

/**
 * Failures of a workflow step. The name is `Rein.<code>`, which Step Functions reports as the
 * state's `Error`, so `MarkFailed` records the code without parsing messages.
 */
export class WorkflowStepError extends ReinError {
  constructor(code: RunFailureCode, message: string, cause?: unknown) {
    super(code, 500, message, { cause });
    this.name = `Rein.${code}`;
  }
}

/**
 * A step that cannot go on *yet* and must be tried again by the state machine (its Retry names
 * these errors): another live invocation holds the model attempt's lease (`Rein.LeaseHeld`), or an
 * answer waits on its hold because the settle transaction failed transiently (`Rein.SettlePending`;
 * the next invocation settles it before anything else).
 */
export const LEASE_HELD_ERROR = 'Rein.LeaseHeld';
export const SETTLE_PENDING_ERROR = 'Rein.SettlePending';
export const RETRYABLE_STEP_ERRORS = [LEASE_HELD_ERROR, SETTLE_PENDING_ERROR] as const;

export class RetryableStepError extends ReinError {
  constructor(name: (typeof RETRYABLE_STEP_ERRORS)[number], message: string, cause?: unknown) {
    super('internal_error', 503, message, { cause });
    this.name = name;
  }
}

export const RUN_FAILURE_CODES = [
  'model_unavailable',
  'invalid_model_output',
  'model_refused',
  'budget_exceeded',
  'rate_limited',
  'context_unavailable',
  'internal_error',
  /** The local engine stopped while executing the run and could not resume it safely. */
  'interrupted',
] as const;
export type RunFailureCode = (typeof RUN_FAILURE_CODES)[number];
