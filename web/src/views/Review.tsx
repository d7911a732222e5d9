import { diffWordsWithSpace } from 'diff';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { errorMessage, type Draft, type DraftDetail, type Evidence } from '../api/client.ts';
import { actionDecisions, initialChoices, type ActionChoices } from '../actions.ts';
import { ActionsPanel } from './Actions.tsx';
import { asBrief, briefToText, type Brief } from '../brief.ts';
import { useConsole } from '../context.ts';
import { href, navigate } from '../router.ts';
import { useShortcuts } from '../shortcuts.ts';
import { expiresAt, formatAge, formatDuration } from '../time.ts';
import { BriefForm } from './BriefForm.tsx';

type Decision = 'approve' | 'reject' | 'escalate';
const DONE: Record<Decision, string> = { approve: 'Approved', reject: 'Rejected', escalate: 'Escalated' };

/**
 * One draft: the brief as an editable form with each risk's evidence beside it, all other
 * evidence the model saw, a diff against the model's original, the edit history, and Approve /
 * Reject / Escalate with an optional reason. Edits and decisions carry If-Match; a 412 shows what
 * changed. The account's name and everything the model saw come with the draft's GET only.
 */
export function Review({ draftId, from }: { draftId: string; from: 'inbox' | 'escalations' }) {
  const { api, session, config } = useConsole();
  const [draft, setDraft] = useState<Draft | null>(null);
  const [details, setDetails] = useState<Pick<DraftDetail, 'accountName' | 'seenEvidence'> | null>(null);
  const [brief, setBrief] = useState<Brief | null>(null);
  const [dirty, setDirty] = useState(false);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [conflict, setConflict] = useState<{ mine: Brief; theirs: Draft } | null>(null);
  const [choices, setChoices] = useState<ActionChoices>({});

  const show = useCallback((loaded: Draft) => {
    setDraft(loaded);
    setChoices(initialChoices(loaded.actions));
    setBrief(asBrief(loaded.content));
    setDirty(false);
  }, []);

  const load = useCallback(async () => {
    const { data, error: failure } = await api.GET('/v1/drafts/{draftId}', { params: { path: { draftId } } });
    if (!data) {
      setError(errorMessage(failure, 'The draft could not be loaded.'));
      return null;
    }
    return data;
  }, [api, draftId]);

  useEffect(() => {
    void load().then((loaded) => {
      if (!loaded) return;
      show(loaded);
      setDetails({ accountName: loaded.accountName, seenEvidence: loaded.seenEvidence });
    });
  }, [load, show]);

  const original = useMemo(() => asBrief(draft?.original), [draft]);
  // Everything the model saw, so a citation a reviewer adds shows its evidence too.
  const seen: Evidence[] = useMemo(
    () => [...(details?.seenEvidence ?? []), ...(draft?.evidence ?? [])],
    [details, draft],
  );
  const evidenceById = useMemo(() => new Map(seen.map((item) => [item.id, item])), [seen]);

  /** A 412: keep the reviewer's edits on screen next to what the draft is now. */
  const onStale = async (mine: Brief) => {
    const theirs = await load();
    if (theirs) setConflict({ mine, theirs });
  };

  const save = async (): Promise<Draft | null> => {
    if (!draft || !brief) return null;
    const {
      data,
      error: failure,
      response,
    } = await api.PATCH('/v1/drafts/{draftId}', {
      params: { path: { draftId }, header: { 'if-match': `"${draft.version}"` } },
      body: { content: brief },
    });
    if (response.status === 412) {
      await onStale(brief);
      return null;
    }
    if (!data) {
      setError(errorMessage(failure, 'The edit could not be saved.'));
      return null;
    }
    show(data);
    return data;
  };

  const act = async (decision: Decision) => {
    if (!draft || busy || conflict) return;
    setError(null);
    setNotice(null);
    // Approving decides every proposed action (the API answers 400 naming any left undecided).
    const decided = decision === 'approve' ? actionDecisions(draft.actions, choices) : null;
    if (decided && 'problem' in decided) {
      setError(decided.problem);
      return;
    }
    setBusy(true);
    try {
      const current = dirty ? await save() : draft;
      if (!current) return;
      const options = {
        params: { path: { draftId } },
        headers: { 'if-match': `"${current.version}"` },
        body: reason.trim() ? { reason: reason.trim() } : {},
      };
      const result =
        decision === 'approve'
          ? await api.POST('/v1/drafts/{draftId}/approve', {
              ...options,
              body: { ...options.body, actions: decided?.actions ?? [] },
            })
          : decision === 'reject'
            ? await api.POST('/v1/drafts/{draftId}/reject', options)
            : await api.POST('/v1/drafts/{draftId}/escalate', options);
      if (result.response.status === 412 && brief) {
        await onStale(brief);
        return;
      }
      if (!result.data) {
        setError(errorMessage(result.error, `The draft could not be ${DONE[decision].toLowerCase()}.`));
        return;
      }
      show(result.data);
      setReason('');
      setNotice(`${DONE[decision]}. The draft is now ${result.data.status.replace('_', ' ')}.`);
    } finally {
      setBusy(false);
    }
  };

  const canDecideEscalated = session.roles.some((role) => role === 'manager' || role === 'admin');
  const open =
    draft !== null &&
    (draft.status === 'awaiting_review' || (draft.status === 'escalated' && canDecideEscalated));
  useShortcuts({
    a: () => void (open ? act('approve') : undefined),
    r: () => void (open ? act('reject') : undefined),
    e: () => void (open && draft.status === 'awaiting_review' ? act('escalate') : undefined),
  });

  if (!draft) {
    return error ? (
      <p role="alert" className="error">
        {error}
      </p>
    ) : (
      <p>Loading…</p>
    );
  }
  const timeLeft = expiresAt(draft, config.reviewTimeoutSeconds) - Date.now();
  const cited = new Set((brief?.risks ?? []).flatMap((risk) => risk.evidence));
  const uncited = [...evidenceById.values()].filter((item) => !cited.has(item.id));

  return (
    <>
      <p>
        <a href={href({ name: from })}>← Back to {from === 'inbox' ? 'inbox' : 'escalations'}</a>
      </p>
      <h1>
        Renewal brief: {draft.accountId}
        {details?.accountName ? ` · ${details.accountName}` : ''}{' '}
        <span className={`status status-${draft.status}`}>{draft.status.replace('_', ' ')}</span>
      </h1>
      <p className="muted">
        Owner {draft.ownerId} · model {draft.model} · prompt {draft.promptId}@{draft.promptVersion} · version{' '}
        {draft.version} · created {formatAge(draft.createdAt)}
        {draft.status === 'awaiting_review' || draft.status === 'escalated'
          ? ` · ${formatDuration(timeLeft)} left`
          : ''}
      </p>
      {brief?.escalation.recommended ? (
        <p className="callout warn" role="note">
          <strong>The model recommends escalation.</strong> {brief.escalation.reason}
        </p>
      ) : null}
      {brief && brief.dataGaps.length > 0 ? (
        <div className="callout gap" role="note">
          <strong>Data gaps — the brief was written without:</strong>
          <ul>
            {brief.dataGaps.map((gap, index) => (
              <li key={index}>
                {gap.source}: {gap.description}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {draft.escalation ? (
        <p className="callout" role="note">
          Escalated by {draft.escalation.by} {formatAge(draft.escalation.at)}
          {draft.escalation.reason ? `: ${draft.escalation.reason}` : ''}
        </p>
      ) : null}
      {conflict ? (
        <ConflictPanel
          mine={conflict.mine}
          theirs={conflict.theirs}
          onReload={() => {
            show(conflict.theirs);
            setConflict(null);
            setNotice('Reloaded the current version.');
          }}
        />
      ) : null}
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      {notice ? (
        <p role="status" className="notice">
          {notice}{' '}
          {draft.status !== 'awaiting_review' && draft.status !== 'escalated' ? (
            <a href={href({ name: from })}>Back to {from === 'inbox' ? 'inbox' : 'escalations'}</a>
          ) : null}
        </p>
      ) : null}

      <ActionsPanel
        actions={draft.actions}
        choices={choices}
        readOnly={!open || busy || !!conflict}
        onChange={setChoices}
      />

      <section className="decide card" aria-labelledby="decide-title">
        <h2 id="decide-title">Decision</h2>
        <label>
          Reason (optional)
          <textarea
            value={reason}
            maxLength={2000}
            rows={2}
            onChange={(event) => {
              setReason(event.target.value);
            }}
          />
        </label>
        <div className="buttons">
          <button type="button" disabled={!open || busy || !!conflict} onClick={() => void act('approve')}>
            Approve
          </button>
          <button
            type="button"
            className="danger"
            disabled={!open || busy || !!conflict}
            onClick={() => void act('reject')}
          >
            Reject
          </button>
          <button
            type="button"
            className="secondary"
            disabled={!open || busy || !!conflict || draft.status !== 'awaiting_review'}
            onClick={() => void act('escalate')}
          >
            Escalate
          </button>
          <span className="muted">
            <kbd>a</kbd> approve · <kbd>r</kbd> reject · <kbd>e</kbd> escalate
            {dirty ? ' · unsaved edits are saved first' : ''}
          </span>
        </div>
        {draft.status === 'escalated' && !canDecideEscalated ? (
          <p className="muted">Escalated: a manager or an admin decides this draft now.</p>
        ) : null}
      </section>

      {brief ? (
        <form
          className="review"
          aria-label="Brief"
          onSubmit={(event) => {
            event.preventDefault();
            setBusy(true);
            setError(null);
            void save()
              .then((saved) => {
                if (saved) setNotice(`Saved version ${saved.version}.`);
              })
              .finally(() => {
                setBusy(false);
              });
          }}
        >
          <BriefForm
            brief={brief}
            evidence={evidenceById}
            readOnly={!open}
            onChange={(next) => {
              setBrief(next);
              setDirty(true);
            }}
          />
          <div className="buttons">
            <button type="submit" disabled={!open || !dirty || busy || !!conflict}>
              Save
            </button>
            {dirty ? <span className="muted">Unsaved edits</span> : null}
          </div>
        </form>
      ) : (
        <pre className="card">{JSON.stringify(draft.content, null, 2)}</pre>
      )}

      {brief && original ? (
        <section aria-labelledby="diff-title" className="card">
          <h2 id="diff-title">Changes against the model's original</h2>
          <Diff before={briefToText(original)} after={briefToText(brief)} />
        </section>
      ) : null}

      <section aria-labelledby="other-evidence-title">
        <h2 id="other-evidence-title">Other evidence the model saw ({uncited.length})</h2>
        <div className="evidence-grid">
          {uncited.map((item) => (
            <EvidenceCard key={item.id} item={item} />
          ))}
        </div>
      </section>
      <section aria-labelledby="history-title">
        <h2 id="history-title">Edit history</h2>
        {draft.edits.length === 0 ? (
          <p className="muted">No edits yet: the content is the model&apos;s draft.</p>
        ) : (
          <ol className="history">
            {draft.edits.map((entry) => (
              <li key={entry.version}>
                Version {entry.version} by {entry.editor},{' '}
                <time dateTime={entry.at} title={entry.at}>
                  {formatAge(entry.at)}
                </time>
              </li>
            ))}
          </ol>
        )}
      </section>
      <p>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            navigate({ name: from });
          }}
        >
          Back to list
        </button>
      </p>
    </>
  );
}

export function Diff({ before, after }: { before: string; after: string }) {
  const parts = useMemo(() => diffWordsWithSpace(before, after), [before, after]);
  const changed = parts.some((part) => part.added || part.removed);
  return (
    <>
      <p className="muted" aria-live="polite">
        {changed
          ? 'Removed text is struck through, added text is underlined.'
          : 'No changes: the content is the model\u2019s original.'}
      </p>
      <pre className="diff" data-testid="diff">
        {parts.map((part, index) =>
          part.added ? (
            <ins key={index}>{part.value}</ins>
          ) : part.removed ? (
            <del key={index}>{part.value}</del>
          ) : (
            <span key={index}>{part.value}</span>
          ),
        )}
      </pre>
    </>
  );
}

function ConflictPanel({ mine, theirs, onReload }: { mine: Brief; theirs: Draft; onReload: () => void }) {
  const current = asBrief(theirs.content);
  return (
    <section className="callout conflict" role="alert" aria-labelledby="conflict-title">
      <h2 id="conflict-title">This draft changed while you were editing</h2>
      <p>
        It is now version {theirs.version} ({theirs.status.replace('_', ' ')}, updated{' '}
        {formatAge(theirs.updatedAt)}). Your change was not saved. What changed, from your version to the
        current one:
      </p>
      {current ? <Diff before={briefToText(mine)} after={briefToText(current)} /> : null}
      <button type="button" onClick={onReload}>
        Reload
      </button>
    </section>
  );
}

export function EvidenceCard({ item, missing }: { item: Evidence; missing?: boolean }) {
  return (
    <article className={`evidence${missing ? ' missing' : ''}`} aria-label={`Evidence ${item.id}`}>
      <header>
        <strong>{item.source}</strong> <code>{item.recordId}</code>
        <span className="muted"> · fetched {formatAge(item.provenance.fetchedAt)}</span>
      </header>
      <dl>
        {Object.entries(item.fields).map(([name, value]) => (
          <div key={name}>
            <dt>{name}</dt>
            <dd>{value === null ? '—' : String(value)}</dd>
          </div>
        ))}
      </dl>
      <footer className="muted">
        id <code>{item.id}</code>
      </footer>
    </article>
  );
}
