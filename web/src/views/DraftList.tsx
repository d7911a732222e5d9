import { useCallback, useEffect, useState, type SyntheticEvent } from 'react';
import { errorMessage, type Draft, type DraftSummary, type Run, type RunPage } from '../api/client.ts';
import { asBrief, topSeverity } from '../brief.ts';
import { useConsole } from '../context.ts';
import { href, navigate } from '../router.ts';
import { useShortcuts } from '../shortcuts.ts';
import { expiresAt, formatAge, formatDuration } from '../time.ts';

const POLL_MS = 3000;

/** A listed draft: the full draft, or its summary when the draft could not be read. */
type Listed = Draft | (DraftSummary & { content: null });

/** A run as GET /v1/runs lists it or GET /v1/runs/{runId} answers it. */
type RunRow = Run | RunPage['items'][number];
const severityLabel = ['none', 'low', 'medium', 'high'];

function proposedCount(draft: Listed): number {
  return draft.actions.filter((action) => action.status === 'proposed').length;
}

/** Runs this browser started, per user: the inbox follows them until they reach review or fail. */
function runsKey(tenantId: string, sub: string): string {
  return `rein.runs.${tenantId}.${sub}`;
}
function storedRuns(key: string): string[] {
  try {
    const value: unknown = JSON.parse(localStorage.getItem(key) ?? '[]');
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * The CSM's inbox (drafts awaiting review, highest risk and newest first, with the time left before
 * they expire; the runs they asked for that are still running or failed) and the manager's
 * escalations (escalated drafts of the tenant). `j`/`k` move, Enter opens.
 */
export function DraftList({ mode }: { mode: 'inbox' | 'escalations' }) {
  const { api, session, config } = useConsole();
  const [drafts, setDrafts] = useState<Listed[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [selected, setSelected] = useState(0);
  const [now, setNow] = useState(() => Date.now());
  const status = mode === 'inbox' ? 'awaiting_review' : 'escalated';

  const load = useCallback(async () => {
    const { data, error: failure } = await api.GET('/v1/drafts', {
      params: { query: { status, limit: 100 } },
    });
    if (!data) {
      setError(errorMessage(failure, 'The drafts could not be loaded.'));
      return;
    }
    // The list answers summaries; each draft's brief (risks, health, escalation advice) ranks it.
    const full = await Promise.all(
      data.items.map(async (summary) => {
        const { data: draft } = await api.GET('/v1/drafts/{draftId}', {
          params: { path: { draftId: summary.draftId } },
        });
        return draft ?? { ...summary, content: null };
      }),
    );
    setError(null);
    setDrafts(
      full.sort(
        (a, b) =>
          topSeverity(asBrief(b.content)) - topSeverity(asBrief(a.content)) ||
          Date.parse(b.createdAt) - Date.parse(a.createdAt),
      ),
    );
    setNow(Date.now());
  }, [api, status]);

  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), POLL_MS * 3);
    return () => {
      clearInterval(timer);
    };
  }, [load]);

  const items = drafts ?? [];
  const open = (index: number) => {
    const draft = items[index];
    if (draft) navigate({ name: 'draft', draftId: draft.draftId, from: mode });
  };
  useShortcuts({
    j: () => {
      setSelected((index) => Math.min(index + 1, Math.max(items.length - 1, 0)));
    },
    k: () => {
      setSelected((index) => Math.max(index - 1, 0));
    },
    Enter: () => {
      open(selected);
    },
  });
  useEffect(() => {
    document.querySelector<HTMLElement>(`[data-row="${selected}"] a`)?.focus();
  }, [selected]);

  return (
    <>
      <h1>{mode === 'inbox' ? 'Inbox' : 'Escalations'}</h1>
      {mode === 'inbox' && session.roles.some((role) => ['csm', 'manager', 'admin'].includes(role)) ? (
        <RequestedRuns onDraftReady={() => void load()} />
      ) : null}
      <section aria-labelledby="drafts-title">
        <h2 id="drafts-title">{mode === 'inbox' ? 'Drafts awaiting review' : 'Escalated drafts'}</h2>
        {error ? (
          <p role="alert" className="error">
            {error}
          </p>
        ) : null}
        {drafts === null ? (
          <p>Loading…</p>
        ) : items.length === 0 ? (
          <p className="muted">Nothing to review.</p>
        ) : (
          <table className="list">
            <thead>
              <tr>
                <th scope="col">Account</th>
                <th scope="col">Health</th>
                <th scope="col">Top risk</th>
                <th scope="col">{mode === 'inbox' ? 'Owner' : 'Escalated by'}</th>
                <th scope="col">Created</th>
                <th scope="col">Time left</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {items.map((draft, index) => {
                const brief = asBrief(draft.content);
                return (
                  <tr
                    key={draft.draftId}
                    data-row={index}
                    className={index === selected ? 'selected' : undefined}
                  >
                    <td>
                      <a
                        href={href({ name: 'draft', draftId: draft.draftId, from: mode })}
                        onFocus={() => {
                          setSelected(index);
                        }}
                      >
                        {draft.accountId}
                      </a>
                      {brief?.escalation.recommended ? (
                        <span className="badge warn">escalation recommended</span>
                      ) : null}
                      {brief && brief.dataGaps.length > 0 ? <span className="badge">data gaps</span> : null}
                    </td>
                    <td>{brief?.health ?? '—'}</td>
                    <td>
                      <span className={`sev sev-${severityLabel[topSeverity(brief)] ?? 'none'}`}>
                        {severityLabel[topSeverity(brief)]}
                      </span>
                    </td>
                    <td>
                      {mode === 'inbox'
                        ? draft.ownerId
                        : `${draft.escalation?.by ?? '—'}${draft.escalation?.reason ? `: ${draft.escalation.reason}` : ''}`}
                    </td>
                    <td>{formatAge(draft.createdAt, now)}</td>
                    <td>{formatDuration(expiresAt(draft, config.reviewTimeoutSeconds) - now)}</td>
                    <td>{proposedCount(draft) > 0 ? `${proposedCount(draft)} to decide` : '—'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        <p className="muted">
          Keys: <kbd>j</kbd>/<kbd>k</kbd> move, <kbd>Enter</kbd> opens, <kbd>?</kbd> lists all shortcuts.
        </p>
      </section>
    </>
  );
}

/** Ask for a brief, and follow the runs asked for from this browser until review or failure. */
function RequestedRuns({ onDraftReady }: { onDraftReady: () => void }) {
  const { api, session } = useConsole();
  const key = runsKey(session.tenantId, session.sub);
  const [runIds, setRunIds] = useState<string[]>(() => storedRuns(key));
  const [runs, setRuns] = useState<Record<string, RunRow>>({});
  const [accountId, setAccountId] = useState('');
  const [message, setMessage] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    const found: Record<string, RunRow> = {};
    // Runs still running or failed (the API lists a CSM's own, a manager's the tenant's) ...
    const listed = await api.GET('/v1/runs', { params: { query: { status: 'running,failed', limit: 50 } } });
    for (const run of listed.data?.items ?? []) found[run.runId] = run;
    // ... and those asked for from this browser, followed until their draft is ready.
    await Promise.all(
      runIds
        .filter((runId) => !(runId in found))
        .map(async (runId) => {
          const { data } = await api.GET('/v1/runs/{runId}', { params: { path: { runId } } });
          if (data) found[runId] = data;
        }),
    );
    setRuns((previous) => {
      const becameReady = Object.values(found).some(
        (run) => run.status === 'awaiting_review' && previous[run.runId]?.status === 'running',
      );
      if (becameReady) onDraftReady();
      return found;
    });
  }, [api, runIds, onDraftReady]);

  const pending =
    Object.values(runs).some((run) => run.status === 'running') || runIds.some((id) => !(id in runs));
  useEffect(() => {
    void refresh();
    if (!pending) return;
    const timer = setInterval(() => void refresh(), POLL_MS);
    return () => {
      clearInterval(timer);
    };
  }, [refresh, pending]);

  const request = async (event: SyntheticEvent) => {
    event.preventDefault();
    setMessage(null);
    const { data, error } = await api.POST('/v1/workflows/{workflowId}/runs', {
      params: { path: { workflowId: 'renewal-brief' }, header: { 'idempotency-key': crypto.randomUUID() } },
      body: { accountId: accountId.trim() },
    });
    if (!data) {
      setMessage(errorMessage(error, 'The brief could not be requested.'));
      return;
    }
    const next = [data.runId, ...runIds.filter((id) => id !== data.runId)].slice(0, 20);
    localStorage.setItem(key, JSON.stringify(next));
    setRunIds(next);
    setRuns((previous) => ({ ...previous, [data.runId]: data }));
    setAccountId('');
    setMessage(`Brief requested for ${data.accountId}.`);
  };

  const shown = Object.values(runs)
    .filter(
      (run) =>
        run.status === 'running' ||
        run.status === 'failed' ||
        (run.status === 'awaiting_review' && runIds.includes(run.runId)),
    )
    .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt));

  return (
    <section aria-labelledby="runs-title">
      <h2 id="runs-title">Runs running or failed</h2>
      <form className="inline" onSubmit={(event) => void request(event)}>
        <label>
          Account id{' '}
          <input
            value={accountId}
            onChange={(event) => {
              setAccountId(event.target.value);
            }}
            placeholder="acct-contoso"
            required
          />
        </label>
        <button type="submit">Request brief</button>
        {message ? <span role="status">{message}</span> : null}
      </form>
      {shown.length > 0 ? (
        <table className="list">
          <thead>
            <tr>
              <th scope="col">Account</th>
              <th scope="col">Status</th>
              <th scope="col">Requested</th>
              <th scope="col">Draft</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((run) => (
              <tr key={run.runId}>
                <td>{run.accountId}</td>
                <td>
                  <span className={`status status-${run.status}`}>{run.status}</span>
                  {run.error ? (
                    <span className="error">
                      {' '}
                      {run.error.code}: {run.error.message}
                    </span>
                  ) : null}
                </td>
                <td>{formatAge(run.createdAt)}</td>
                <td>
                  {run.draftId ? (
                    <a href={href({ name: 'draft', draftId: run.draftId, from: 'inbox' })}>
                      Open draft for {run.accountId}
                    </a>
                  ) : (
                    '—'
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
