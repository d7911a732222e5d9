import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema.gen.ts';

/** Every call of the console goes through this client, typed by Rein's OpenAPI document. */
export type Api = ReturnType<typeof createClient<paths>>;
export type Draft = components['schemas']['Draft'];
/** `GET /v1/drafts/{draftId}`: the draft with the account's name, all evidence seen and the data gaps. */
export type DraftDetail = components['schemas']['DraftDetail'];
export type DraftSummary = components['schemas']['DraftSummary'];
export type RunPage = components['schemas']['RunPage'];
export type Run = components['schemas']['Run'];
export type Span = components['schemas']['Trace']['spans'][number];
export type LedgerReport = components['schemas']['LedgerReport'];
export type Budget = components['schemas']['Budget'];
export type ErrorBody = components['schemas']['Error'];
export type Evidence = Draft['evidence'][number];

export function createApi(baseUrl: string, token: () => string | null, onUnauthorized: () => void): Api {
  const api = createClient<paths>({ baseUrl: baseUrl || location.origin });
  const auth: Middleware = {
    onRequest({ request }) {
      const current = token();
      if (current) request.headers.set('authorization', `Bearer ${current}`);
      return request;
    },
    onResponse({ response }) {
      if (response.status === 401) onUnauthorized();
      return response;
    },
  };
  api.use(auth);
  return api;
}

/** The message of an API error body, or a generic one. */
export function errorMessage(error: unknown, fallback = 'The request failed.'): string {
  if (typeof error === 'object' && error !== null && 'error' in error) {
    const inner = (error as ErrorBody).error;
    if (inner.message) return inner.message;
  }
  return fallback;
}
