import type { Evidence } from '../api/client.ts';
import { HEALTHS, SEVERITIES, type Brief, type Risk } from '../brief.ts';
import { EvidenceCard } from './Review.tsx';

interface Props {
  brief: Brief;
  evidence: Map<string, Evidence>;
  readOnly: boolean;
  onChange: (next: Brief) => void;
}

function replaceAt<T>(list: readonly T[], index: number, value: T): T[] {
  return list.map((item, i) => (i === index ? value : item));
}
function removeAt<T>(list: readonly T[], index: number): T[] {
  return list.filter((_, i) => i !== index);
}

/** The renewal brief's schema as a form: every field of components.schemas.RenewalBrief is editable. */
export function BriefForm({ brief, evidence, readOnly, onChange }: Props) {
  const set = <K extends keyof Brief>(key: K, value: Brief[K]) => {
    onChange({ ...brief, [key]: value });
  };
  const setRisk = (index: number, risk: Risk) => {
    set('risks', replaceAt(brief.risks, index, risk));
  };

  return (
    <fieldset disabled={readOnly} className="brief">
      <legend className="visually-hidden">Brief</legend>
      <label className="block">
        Summary
        <textarea
          value={brief.summary}
          rows={4}
          onChange={(event) => {
            set('summary', event.target.value);
          }}
        />
      </label>
      <label className="block narrow">
        Health
        <select
          value={brief.health}
          onChange={(event) => {
            const health = HEALTHS.find((value) => value === event.target.value);
            if (health) set('health', health);
          }}
        >
          {HEALTHS.map((health) => (
            <option key={health} value={health}>
              {health.replace('_', ' ')}
            </option>
          ))}
        </select>
      </label>

      <h2>Risks</h2>
      {brief.risks.map((risk, index) => (
        <div key={index} className="risk">
          <fieldset className="card">
            <legend>Risk {index + 1}</legend>
            <label className="block">
              Title
              <input
                value={risk.title}
                onChange={(event) => {
                  setRisk(index, { ...risk, title: event.target.value });
                }}
              />
            </label>
            <label className="block narrow">
              Severity
              <select
                value={risk.severity}
                onChange={(event) => {
                  const severity = SEVERITIES.find((value) => value === event.target.value);
                  if (severity) setRisk(index, { ...risk, severity });
                }}
              >
                {SEVERITIES.map((severity) => (
                  <option key={severity} value={severity}>
                    {severity}
                  </option>
                ))}
              </select>
            </label>
            <label className="block">
              Cited evidence ids (comma-separated)
              <input
                value={risk.evidence.join(', ')}
                onChange={(event) => {
                  setRisk(index, {
                    ...risk,
                    evidence: event.target.value
                      .split(',')
                      .map((id) => id.trim())
                      .filter(Boolean),
                  });
                }}
              />
            </label>
            <button
              type="button"
              className="secondary"
              onClick={() => {
                set('risks', removeAt(brief.risks, index));
              }}
            >
              Remove risk {index + 1}
            </button>
          </fieldset>
          <div className="risk-evidence" aria-label={`Evidence for risk ${index + 1}`} role="group">
            {risk.evidence.length === 0 ? <p className="warn-text">No evidence cited.</p> : null}
            {risk.evidence.map((id) => {
              const item = evidence.get(id);
              return item ? (
                <EvidenceCard key={id} item={item} />
              ) : (
                <p key={id} className="warn-text">
                  Cited id <code>{id}</code> is not in the evidence the model saw.
                </p>
              );
            })}
          </div>
        </div>
      ))}
      <button
        type="button"
        className="secondary"
        onClick={() => {
          set('risks', [...brief.risks, { title: '', severity: 'medium', evidence: [] }]);
        }}
      >
        Add risk
      </button>

      <h2>Open questions</h2>
      <TextList
        label="Question"
        items={brief.openQuestions}
        onChange={(items) => {
          set('openQuestions', items);
        }}
      />

      <h2>Next steps</h2>
      {brief.nextSteps.map((step, index) => (
        <fieldset key={index} className="row">
          <legend>Next step {index + 1}</legend>
          <label>
            Action
            <input
              value={step.action}
              onChange={(event) => {
                set('nextSteps', replaceAt(brief.nextSteps, index, { ...step, action: event.target.value }));
              }}
            />
          </label>
          <label>
            Owner
            <input
              value={step.owner}
              onChange={(event) => {
                set('nextSteps', replaceAt(brief.nextSteps, index, { ...step, owner: event.target.value }));
              }}
            />
          </label>
          <label>
            Due by
            <input
              type="date"
              value={step.dueBy ?? ''}
              onChange={(event) => {
                set(
                  'nextSteps',
                  replaceAt(brief.nextSteps, index, { ...step, dueBy: event.target.value || null }),
                );
              }}
            />
          </label>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              set('nextSteps', removeAt(brief.nextSteps, index));
            }}
          >
            Remove step {index + 1}
          </button>
        </fieldset>
      ))}
      <button
        type="button"
        className="secondary"
        onClick={() => {
          set('nextSteps', [...brief.nextSteps, { action: '', owner: '', dueBy: null }]);
        }}
      >
        Add next step
      </button>

      <h2>Data gaps</h2>
      {brief.dataGaps.map((gap, index) => (
        <fieldset key={index} className="row">
          <legend>Data gap {index + 1}</legend>
          <label>
            Source
            <input
              value={gap.source}
              onChange={(event) => {
                set('dataGaps', replaceAt(brief.dataGaps, index, { ...gap, source: event.target.value }));
              }}
            />
          </label>
          <label>
            Description
            <input
              value={gap.description}
              onChange={(event) => {
                set(
                  'dataGaps',
                  replaceAt(brief.dataGaps, index, { ...gap, description: event.target.value }),
                );
              }}
            />
          </label>
        </fieldset>
      ))}

      <h2>Escalation</h2>
      <label className="check">
        <input
          type="checkbox"
          checked={brief.escalation.recommended}
          onChange={(event) => {
            set('escalation', { ...brief.escalation, recommended: event.target.checked });
          }}
        />
        Escalation recommended
      </label>
      <label className="block">
        Escalation reason
        <input
          value={brief.escalation.reason ?? ''}
          onChange={(event) => {
            set('escalation', { ...brief.escalation, reason: event.target.value || null });
          }}
        />
      </label>
    </fieldset>
  );
}

function TextList({
  label,
  items,
  onChange,
}: {
  label: string;
  items: string[];
  onChange: (items: string[]) => void;
}) {
  return (
    <>
      {items.map((item, index) => (
        <div key={index} className="row">
          <label>
            {label} {index + 1}
            <input
              value={item}
              onChange={(event) => {
                onChange(replaceAt(items, index, event.target.value));
              }}
            />
          </label>
          <button
            type="button"
            className="secondary"
            onClick={() => {
              onChange(removeAt(items, index));
            }}
          >
            Remove {label.toLowerCase()} {index + 1}
          </button>
        </div>
      ))}
      <button
        type="button"
        className="secondary"
        onClick={() => {
          onChange([...items, '']);
        }}
      >
        Add {label.toLowerCase()}
      </button>
    </>
  );
}
