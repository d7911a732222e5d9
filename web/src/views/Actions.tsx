import { argText, type ActionChoices, type ProposedAction } from '../actions.ts';

/** The proposed actions, each with its rationale, cited evidence, editable arguments and decision. */
export function ActionsPanel({
  actions,
  choices,
  readOnly,
  onChange,
}: {
  actions: readonly ProposedAction[];
  choices: ActionChoices;
  readOnly: boolean;
  onChange: (next: ActionChoices) => void;
}) {
  if (actions.length === 0) return null;
  const update = (actionId: string, change: Partial<ActionChoices[string]>) => {
    const current = choices[actionId] ?? { decision: null, args: {} };
    onChange({ ...choices, [actionId]: { ...current, ...change } });
  };
  return (
    <section className="card actions" aria-labelledby="actions-title">
      <h2 id="actions-title">Proposed actions ({actions.length})</h2>
      <p className="muted">Approving the draft sends the approved actions; decide each one first.</p>
      {actions.map((action, index) => {
        const choice = choices[action.actionId];
        const editable = !readOnly && action.status === 'proposed';
        const label = `Action ${index + 1}: ${action.type}`;
        return (
          <fieldset key={action.actionId} className="action">
            <legend>
              {label} <span className={`status status-${action.status}`}>{action.status}</span>
            </legend>
            <p>{action.rationale}</p>
            {action.evidence.length > 0 ? (
              <p className="muted">
                Evidence:{' '}
                {action.evidence.map((id) => (
                  <code key={id}>{id} </code>
                ))}
              </p>
            ) : null}
            {Object.keys(action.args).map((name) => {
              const value = choice?.args[name] ?? argText(action.args[name]);
              return (
                <label key={name}>
                  {name}
                  <textarea
                    aria-label={`${label} ${name}`}
                    value={value}
                    rows={value.length > 80 ? 4 : 1}
                    readOnly={!editable || choice?.decision === 'reject'}
                    onChange={(event) => {
                      update(action.actionId, {
                        args: { ...(choice?.args ?? {}), [name]: event.target.value },
                      });
                    }}
                  />
                </label>
              );
            })}
            <div className="buttons" role="radiogroup" aria-label={`Decision on ${label}`}>
              {(['approve', 'reject'] as const).map((decision) => (
                <label key={decision}>
                  <input
                    type="radio"
                    name={`decision-${action.actionId}`}
                    value={decision}
                    checked={choice?.decision === decision}
                    disabled={!editable}
                    onChange={() => {
                      update(action.actionId, { decision });
                    }}
                  />{' '}
                  {decision === 'approve' ? 'Send' : "Don't send"}
                </label>
              ))}
            </div>
          </fieldset>
        );
      })}
    </section>
  );
}
