import { z } from 'zod';
import { SourceUnavailableError } from '../domain/context.ts';
import { NotFoundError, ValidationError } from '../domain/errors.ts';
import type { Principal } from '../domain/principal.ts';
import { checkOutboundUrl, OutboundError, sendOutbound } from '../outbound/http.ts';
import type { ConnectorConfig, ContextSource, SourceRecord } from '../ports/index.ts';
import { findSource } from '../sources/catalogue.ts';
import {
  accountFieldIssue,
  AccountIdSchema,
  RecordIdSchema,
  type SourceDefinition,
} from '../sources/definition.ts';
import type { Deps, RuntimeSettings } from './deps.ts';

/** What reading through a connector needs: its secret, the clock and the outbound policy. */
export type PullDeps = Pick<Deps, 'connectorSecrets' | 'clock'> & {
  settings: Pick<RuntimeSettings, 'outbound'>;
};
type ConnectorDeps = PullDeps & Pick<Deps, 'connectors'>;

/** `PUT /v1/connectors/{sourceId}`: where to read the source live, and how to authenticate. */
export const ConnectorSettingsSchema = z.strictObject({
  kind: z.literal('http'),
  url: z.string().min(1).max(2048).describe('https URL; `{accountId}` is replaced by the account id.'),
  auth: z.discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('bearer'),
      // A bearer token is sent in a header: printable ASCII only (RFC 6750 token68 and more).
      secret: z
        .string()
        .min(1)
        .max(4096)
        .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
    }),
    z.strictObject({ type: z.literal('none') }),
  ]),
  timeoutMs: z.int().min(100).max(10_000).default(3000).describe('Whole-request budget, ms.'),
  maxBytes: z
    .int()
    .min(1024)
    .max(1024 * 1024)
    .default(256 * 1024)
    .describe('Largest answer read, bytes.'),
});

/** What a connector's endpoint must answer for one account. */
export const ConnectorAnswerSchema = z.strictObject({
  records: z
    .array(
      z.strictObject({
        recordId: RecordIdSchema,
        updatedAt: z.iso.datetime({ offset: true }),
        data: z.record(z.string(), z.unknown()),
      }),
    )
    .max(200),
});

/** A connector as the API shows it: never the secret, only its type and when it was set. */
export const ConnectorViewSchema = z.object({
  sourceId: z.string(),
  kind: z.literal('http'),
  url: z.string(),
  auth: z.object({ type: z.enum(['bearer', 'none']), secretSetAt: z.string().nullable() }),
  timeoutMs: z.number(),
  maxBytes: z.number(),
  updatedAt: z.string(),
});
export type ConnectorView = z.infer<typeof ConnectorViewSchema>;

function view(config: ConnectorConfig): ConnectorView {
  return {
    sourceId: config.sourceId,
    kind: config.kind,
    url: config.url,
    auth: { type: config.authType, secretSetAt: config.secretSetAt },
    timeoutMs: config.timeoutMs,
    maxBytes: config.maxBytes,
    updatedAt: config.updatedAt,
  };
}

function sourceOrNotFound(sourceId: string | undefined): SourceDefinition {
  const source = sourceId === undefined ? null : findSource(sourceId);
  if (!source) throw new NotFoundError('Source');
  return source;
}

/** Configures (or replaces) a tenant's connector; the secret goes to the secrets port only. */
export async function putConnector(
  deps: ConnectorDeps,
  principal: Principal,
  sourceId: string | undefined,
  body: unknown,
): Promise<ConnectorView> {
  const source = sourceOrNotFound(sourceId);
  const parsed = ConnectorSettingsSchema.safeParse(body);
  if (!parsed.success) {
    throw new ValidationError(
      'The connector settings are invalid.',
      parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    );
  }
  const settings = parsed.data;
  try {
    checkOutboundUrl(settings.url.replaceAll('{accountId}', 'acct-check'), deps.settings.outbound);
  } catch (error) {
    if (error instanceof OutboundError) {
      throw new ValidationError(error.message, [{ path: 'url', message: error.message }]);
    }
    throw error;
  }
  const now = deps.clock.now().toISOString();
  let secretSetAt: string | null = null;
  if (settings.auth.type === 'bearer') {
    await deps.connectorSecrets.put(principal.tenantId, source.id, settings.auth.secret);
    secretSetAt = now;
  }
  const config: ConnectorConfig = {
    tenantId: principal.tenantId,
    sourceId: source.id,
    kind: 'http',
    url: settings.url,
    authType: settings.auth.type,
    secretSetAt: settings.auth.type === 'bearer' ? secretSetAt : null,
    timeoutMs: settings.timeoutMs,
    maxBytes: settings.maxBytes,
    updatedAt: now,
  };
  await deps.connectors.put(config);
  return view(config);
}

/** `GET /v1/connectors/{sourceId}`: the tenant's connector, without its secret. */
export async function getConnector(
  deps: Pick<Deps, 'connectors'>,
  principal: Principal,
  sourceId: string | undefined,
): Promise<ConnectorView> {
  const source = sourceOrNotFound(sourceId);
  const config = await deps.connectors.get(principal.tenantId, source.id);
  if (!config) throw new NotFoundError('Connector');
  return view(config);
}

function gapReason(error: OutboundError): 'timeout' | 'blocked' | 'http_error' | 'invalid_response' {
  switch (error.reason) {
    case 'timeout':
      return 'timeout';
    case 'blocked':
    case 'invalid_url':
    case 'redirect':
      return 'blocked';
    case 'too_large':
      return 'invalid_response';
    case 'connection':
      return 'http_error';
  }
}

/**
 * Reads one account's records through the connector, under the outbound policy. Throws a
 * SourceUnavailableError whose reason becomes the source's data gap; its message never holds the
 * secret or the answer's content.
 */
export async function pullRecords(
  deps: PullDeps,
  config: ConnectorConfig,
  source: SourceDefinition,
  accountId: string,
): Promise<{ records: SourceRecord[]; latencyMs: number }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (config.authType === 'bearer') {
    const secret = await deps.connectorSecrets.get(config.tenantId, config.sourceId);
    if (secret === null) throw new SourceUnavailableError('http_error', 'the connector secret is not set');
    headers['authorization'] = `Bearer ${secret}`;
  }
  const url = config.url.replaceAll('{accountId}', encodeURIComponent(accountId));
  let response;
  try {
    response = await sendOutbound(
      { url, method: 'GET', headers, timeoutMs: config.timeoutMs, maxBytes: config.maxBytes },
      deps.settings.outbound,
    );
  } catch (error) {
    if (error instanceof OutboundError) {
      throw new SourceUnavailableError(gapReason(error), error.message, { cause: error });
    }
    throw error;
  }
  if (response.status === 404) return { records: [], latencyMs: response.latencyMs };
  if (response.status < 200 || response.status > 299) {
    throw new SourceUnavailableError('http_error', `the connector answered HTTP ${response.status}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(response.body.toString('utf8'));
  } catch {
    throw new SourceUnavailableError('invalid_response', 'the connector answer is not JSON');
  }
  const answer = ConnectorAnswerSchema.safeParse(json);
  if (!answer.success) {
    const where = answer.error.issues
      .slice(0, 5)
      .map((issue) => issue.path.join('.') || '(answer)')
      .join(', ');
    throw new SourceUnavailableError(
      'invalid_response',
      `the connector answer has the wrong shape at ${where}`,
    );
  }
  const receivedAt = deps.clock.now().toISOString();
  const records: SourceRecord[] = [];
  for (const record of answer.data.records) {
    const data = source.recordSchema.safeParse(record.data);
    if (!data.success) {
      throw new SourceUnavailableError(
        'invalid_response',
        `record ${record.recordId} does not match the ${source.id} schema at ${data.error.issues
          .slice(0, 5)
          .map((issue) => issue.path.join('.'))
          .join(', ')}`,
      );
    }
    // A record naming another account is not this account's data, whatever the endpoint meant.
    const mismatch = accountFieldIssue(source, accountId, data.data);
    if (mismatch) {
      throw new SourceUnavailableError(
        'invalid_response',
        `record ${record.recordId} names another account at ${mismatch.path}`,
      );
    }
    records.push({
      recordId: record.recordId,
      data: data.data,
      updatedAt: new Date(record.updatedAt).toISOString(),
      receivedAt,
    });
  }
  return { records, latencyMs: response.latencyMs };
}

/** A source read live through a tenant's connector (used by the context layer instead of stored records). */
export class ConnectorSource implements ContextSource {
  readonly source: string;

  constructor(
    private readonly deps: PullDeps,
    private readonly config: ConnectorConfig,
    private readonly definition: SourceDefinition,
  ) {
    this.source = definition.id;
  }

  async fetch(_tenantId: string, accountId: string): Promise<SourceRecord[]> {
    return (await pullRecords(this.deps, this.config, this.definition, accountId)).records;
  }
}

/** The body of a connector test: the account to pull for. */
export const ConnectorTestRequestSchema = z.strictObject({ accountId: AccountIdSchema });

export const ConnectorTestResultSchema = z.object({
  ok: z.boolean(),
  latencyMs: z.number().nullable(),
  records: z.number().int(),
  fields: z.array(z.string()),
  gap: z.object({ reason: z.string(), detail: z.string() }).nullable(),
});
export type ConnectorTestResult = z.infer<typeof ConnectorTestResultSchema>;

/**
 * `POST /v1/connectors/{sourceId}/test` with `{"accountId"}`: what the context layer would get
 * from the connector for that account: the fields, or the data gap and why. No secret, no values.
 */
export async function testConnector(
  deps: ConnectorDeps,
  principal: Principal,
  sourceId: string | undefined,
  body: unknown,
): Promise<ConnectorTestResult> {
  const source = sourceOrNotFound(sourceId);
  const parsed = ConnectorTestRequestSchema.safeParse(body);
  if (!parsed.success) {
    throw new ValidationError(
      'The body must be {"accountId"}.',
      parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    );
  }
  const config = await deps.connectors.get(principal.tenantId, source.id);
  if (!config) throw new NotFoundError('Connector');
  const started = deps.clock.now().getTime();
  try {
    const { records, latencyMs } = await pullRecords(deps, config, source, parsed.data.accountId);
    const fields = [
      ...new Set(
        records.flatMap((record) =>
          record.data !== null && typeof record.data === 'object' ? Object.keys(record.data) : [],
        ),
      ),
    ];
    return { ok: true, latencyMs, records: records.length, fields, gap: null };
  } catch (error) {
    if (!(error instanceof SourceUnavailableError)) throw error;
    return {
      ok: false,
      latencyMs: deps.clock.now().getTime() - started,
      records: 0,
      fields: [],
      gap: { reason: error.reason, detail: error.message },
    };
  }
}
