import { useEffect, useState, type SyntheticEvent } from 'react';
import { errorMessage, type Run, type Span } from '../api/client.ts';
import { useConsole } from '../context.ts';
import { navigate } from '../router.ts';
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
    </>
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
