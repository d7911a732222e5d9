import { useEffect, useState, type SyntheticEvent } from 'react';
import { errorMessage, type Run, type RunPage, type Span } from '../api/client.ts';
import { useConsole } from '../context.ts';
import { href, navigate } from '../router.ts';
import { formatAge, usd } from '../time.ts';

/** Ops: a run's status and error code, and its trace as a waterfall. */
export function Ops({ runId, tenantId }: { runId: string | null; tenantId: string | null }) {
  const { api, session } = useConsole();
  const [form, setForm] = useState({ runId: runId ?? '', tenantId: tenantId ?? '' });
  const [run, setRun] = useState<Run | null>(null);
  const [spans, setSpans] = useState<Span[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    setRun(null);
    setSpans(null);
    setError(null);
    if (!runId) return;
    const query = tenantId ? { tenantId } : {};
    void (async () => {
      const found = await api.GET('/v1/runs/{runId}', { params: { path: { runId }, query } });
      if (!found.data) {
        setError(errorMessage(found.error, 'The run could not be loaded.'));
        return;
      }
      setRun(found.data);
      const trace = await api.GET('/v1/runs/{runId}/trace', { params: { path: { runId }, query } });
      if (!trace.data) {
        setError(errorMessage(trace.error, 'The trace could not be loaded.'));
        return;
      }
      setSpans([...trace.data.spans].sort((a, b) => Date.parse(a.startTime) - Date.parse(b.startTime)));
    })();
  }, [api, runId, tenantId]);

  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    navigate({ name: 'ops', runId: form.runId.trim(), tenantId: form.tenantId.trim() || null });
  };

  return (
    <>
      <h1>Ops</h1>
      <form className="inline card" onSubmit={submit} aria-label="Open a run">
        <label>
          Run id{' '}
          <input
            value={form.runId}
            required
            onChange={(event) => {
              setForm({ ...form, runId: event.target.value });
            }}
          />
        </label>
        <label>
          Tenant{' '}
          <input
            value={form.tenantId}
            placeholder={session.tenantId}
            onChange={(event) => {
              setForm({ ...form, tenantId: event.target.value });
            }}
          />
        </label>
        <button type="submit">Open trace</button>
      </form>
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      {run ? (
        <section className="card" aria-labelledby="run-title">
          <h2 id="run-title">Run {run.runId}</h2>
          <dl className="facts">
            <div>
              <dt>Status</dt>
              <dd>
                <span className={`status status-${run.status}`}>{run.status}</span>
              </dd>
            </div>
            <div>
              <dt>Error code</dt>
              <dd>{run.error ? `${run.error.code}: ${run.error.message}` : '—'}</dd>
            </div>
            <div>
              <dt>Tenant / account</dt>
              <dd>
                {run.tenantId} / {run.accountId}
              </dd>
            </div>
            <div>
              <dt>Workflow</dt>
              <dd>
                {run.workflowId} ({run.promptId}@{run.promptVersion})
              </dd>
            </div>
            <div>
              <dt>Model</dt>
              <dd>{run.model ?? '—'}</dd>
            </div>
            <div>
              <dt>Cost</dt>
              <dd>{usd(run.costUsd)}</dd>
            </div>
            <div>
              <dt>Requested</dt>
              <dd>
                {run.requestedBy}, {formatAge(run.createdAt)}
              </dd>
            </div>
          </dl>
        </section>
      ) : null}
      {spans ? <Waterfall spans={spans} /> : null}
      <RunList tenantId={tenantId} />
    </>
  );
}

const RUN_FILTERS = [
  { label: 'All statuses', value: '' },
  { label: 'Running', value: 'running' },
  { label: 'Failed', value: 'failed' },
  { label: 'In review', value: 'awaiting_review,escalated' },
  { label: 'Decided', value: 'approved,rejected,expired' },
] as const;

/** The tenant's runs (GET /v1/runs), newest first, by status; each opens its trace. */
function RunList({ tenantId }: { tenantId: string | null }) {
  const { api, session } = useConsole();
  const [tenant, setTenant] = useState(tenantId ?? session.tenantId);
  const [status, setStatus] = useState('');
  const [page, setPage] = useState<RunPage | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = async (cursor: string | null) => {
    setError(null);
    const query = {
      limit: 25,
      ...(tenant.trim() ? { tenantId: tenant.trim() } : {}),
      ...(status ? { status } : {}),
      ...(cursor ? { cursor } : {}),
    };
    const { data, error: failure } = await api.GET('/v1/runs', { params: { query } });
    if (!data) {
      setError(errorMessage(failure, 'The runs could not be listed.'));
      return;
    }
    setPage((previous) =>
      cursor && previous ? { items: [...previous.items, ...data.items], nextCursor: data.nextCursor } : data,
    );
  };

  useEffect(() => {
    void load(null);
    // Reload when the filters change; `load` reads them.
  }, [api, tenant, status]);

  return (
    <section className="card" aria-labelledby="runs-list-title">
      <h2 id="runs-list-title">Runs</h2>
      <div className="inline">
        <label>
          Runs of tenant{' '}
          <input
            value={tenant}
            onChange={(event) => {
              setTenant(event.target.value);
            }}
          />
        </label>
        <label>
          Status{' '}
          <select
            value={status}
            onChange={(event) => {
              setStatus(event.target.value);
            }}
          >
            {RUN_FILTERS.map((filter) => (
              <option key={filter.value} value={filter.value}>
                {filter.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      {page === null ? (
        <p>Loading…</p>
      ) : page.items.length === 0 ? (
        <p className="muted">No runs.</p>
      ) : (
        <table className="list">
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Account</th>
              <th scope="col">Status</th>
              <th scope="col">Error code</th>
              <th scope="col">Cost</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((item) => (
              <tr key={item.runId}>
                <td>
                  <a href={href({ name: 'ops', runId: item.runId, tenantId: item.tenantId })}>
                    <code>{item.runId}</code>
                  </a>
                </td>
                <td>{item.accountId}</td>
                <td>
                  <span className={`status status-${item.status}`}>{item.status}</span>
                </td>
                <td>{item.error?.code ?? '—'}</td>
                <td>{usd(item.costUsd)}</td>
                <td>{formatAge(item.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {page?.nextCursor ? (
        <button type="button" className="secondary" onClick={() => void load(page.nextCursor)}>
          More runs
        </button>
      ) : null}
    </section>
  );
}

function attribute(span: Span, name: string): string | number | null {
  const value = span.attributes[name];
  return typeof value === 'string' || typeof value === 'number' ? value : null;
}

/** Each span as a bar placed on the run's timeline, with kind, model, tokens, cost, latency and outcome. */
function Waterfall({ spans }: { spans: Span[] }) {
  const start = Math.min(...spans.map((span) => Date.parse(span.startTime)));
  const end = Math.max(...spans.map((span) => Date.parse(span.endTime)), start + 1);
  const total = end - start;
  return (
    <section className="card" aria-labelledby="trace-title">
      <h2 id="trace-title">
        Trace{' '}
        <span className="muted">
          {spans.length} spans over {total} ms
        </span>
      </h2>
      <table className="list waterfall">
        <thead>
          <tr>
            <th scope="col">Span</th>
            <th scope="col">Kind</th>
            <th scope="col">Model</th>
            <th scope="col">Tokens in/out</th>
            <th scope="col">Cost</th>
            <th scope="col">Latency</th>
            <th scope="col">Outcome</th>
            <th scope="col" className="timeline">
              Timeline
            </th>
          </tr>
        </thead>
        <tbody>
          {spans.map((span) => {
            const offset = ((Date.parse(span.startTime) - start) / total) * 100;
            const width = Math.max((span.durationMs / total) * 100, 0.5);
            const input = attribute(span, 'gen_ai.usage.input_tokens');
            const output = attribute(span, 'gen_ai.usage.output_tokens');
            const cost = attribute(span, 'rein.cost_usd');
            return (
              <tr key={span.spanId}>
                <th scope="row">{span.name}</th>
                <td>{span.kind}</td>
                <td>
                  {attribute(span, 'gen_ai.response.model') ?? attribute(span, 'gen_ai.request.model') ?? '—'}
                </td>
                <td>{input === null && output === null ? '—' : `${input ?? 0}/${output ?? 0}`}</td>
                <td>{typeof cost === 'number' ? usd(cost) : '—'}</td>
                <td>{Math.round(span.durationMs)} ms</td>
                <td>
                  <span className={`status status-${span.status === 'ok' ? 'approved' : 'failed'}`}>
                    {span.status}
                  </span>
                </td>
                <td className="timeline">
                  <svg
                    viewBox="0 0 100 10"
                    preserveAspectRatio="none"
                    aria-hidden="true"
                    className="span-bar"
                  >
                    <rect
                      x={offset}
                      y={1}
                      width={Math.min(width, 100 - offset)}
                      height={8}
                      className={`kind-${span.kind}`}
                    />
                  </svg>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
