import { useCallback, useEffect, useState, type SyntheticEvent } from 'react';
import { errorMessage, type Budget, type LedgerReport } from '../api/client.ts';
import { useConsole } from '../context.ts';
import { usd } from '../time.ts';

type GroupBy = 'day' | 'workflow' | 'model' | 'tenant';

function monthStart(date = new Date()): string {
  return `${date.toISOString().slice(0, 7)}-01`;
}
function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/**
 * Finance: cost per day as a chart and per workflow and model as tables for a chosen period,
 * the CSV of the same ledger, and each tenant's budget (spent, reserved, available) as bars.
 */
export function Finance() {
  const { api, session } = useConsole();
  const platform = session.roles.some((role) => role === 'finance' || role === 'operator');
  const [period, setPeriod] = useState({ from: monthStart(), to: today() });
  const [draftPeriod, setDraftPeriod] = useState(period);
  const [reports, setReports] = useState<Partial<Record<GroupBy, LedgerReport>>>({});
  const [budgets, setBudgets] = useState<Budget[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [csvMessage, setCsvMessage] = useState<string | null>(null);

  const load = useCallback(async () => {
    setError(null);
    const dimensions: GroupBy[] = platform
      ? ['day', 'workflow', 'model', 'tenant']
      : ['day', 'workflow', 'model'];
    const found: Partial<Record<GroupBy, LedgerReport>> = {};
    for (const groupBy of dimensions) {
      const { data, error: failure } = await api.GET('/v1/ledger', {
        params: { query: { ...period, groupBy } },
      });
      if (!data || typeof data === 'string') {
        setError(errorMessage(failure, 'The ledger could not be loaded.'));
        return;
      }
      found[groupBy] = data;
    }
    setReports(found);
    const tenants = new Set([session.tenantId, ...(found.tenant?.rows.map((row) => row.key) ?? [])]);
    const loaded: Budget[] = [];
    for (const tenantId of [...tenants].sort()) {
      const { data } = await api.GET('/v1/tenants/{tenantId}/budget', { params: { path: { tenantId } } });
      if (data && (data.limitUsd > 0 || data.spentUsd > 0)) loaded.push(data);
    }
    setBudgets(loaded);
  }, [api, period, platform, session.tenantId]);

  useEffect(() => {
    void load();
  }, [load]);

  const downloadCsv = async () => {
    setCsvMessage(null);
    const { data, error: failure } = await api.GET('/v1/ledger', {
      params: { query: { ...period, groupBy: 'day' } },
      headers: { accept: 'text/csv' },
      parseAs: 'text',
    });
    if (data === undefined) {
      setCsvMessage(errorMessage(failure, 'The CSV could not be downloaded.'));
      return;
    }
    const url = URL.createObjectURL(new Blob([data], { type: 'text/csv' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = `rein-ledger-${period.from}-${period.to}.csv`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => {
      URL.revokeObjectURL(url);
    }, 10_000);
    setCsvMessage(`Downloaded ${link.download}.`);
  };

  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    setPeriod(draftPeriod);
  };

  return (
    <>
      <h1>Finance</h1>
      <form className="inline card" onSubmit={submit} aria-label="Period">
        <label>
          From{' '}
          <input
            type="date"
            value={draftPeriod.from}
            required
            onChange={(event) => {
              setDraftPeriod({ ...draftPeriod, from: event.target.value });
            }}
          />
        </label>
        <label>
          To{' '}
          <input
            type="date"
            value={draftPeriod.to}
            required
            onChange={(event) => {
              setDraftPeriod({ ...draftPeriod, to: event.target.value });
            }}
          />
        </label>
        <button type="submit">Show period</button>
        <button type="button" className="secondary" onClick={() => void downloadCsv()}>
          Download CSV
        </button>
        {csvMessage ? <span role="status">{csvMessage}</span> : null}
      </form>
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      {reports.day ? (
        <section aria-labelledby="per-day-title" className="card">
          <h2 id="per-day-title">
            Cost per day <span className="muted">total {usd(reports.day.totalUsd)}</span>
          </h2>
          <DayChart report={reports.day} />
        </section>
      ) : (
        <p>Loading…</p>
      )}
      <div className="two">
        {reports.workflow ? <CostTable title="Per workflow" report={reports.workflow} /> : null}
        {reports.model ? <CostTable title="Per model" report={reports.model} /> : null}
      </div>
      {reports.tenant ? <CostTable title="Per tenant" report={reports.tenant} /> : null}
      <section aria-labelledby="budgets-title" className="card">
        <h2 id="budgets-title">Budgets this month</h2>
        {budgets.length === 0 ? (
          <p className="muted">No budgets to show.</p>
        ) : (
          budgets.map((budget) => <BudgetBar key={budget.tenantId} budget={budget} />)
        )}
      </section>
    </>
  );
}

function eachDay(from: string, to: string): string[] {
  const days: string[] = [];
  for (let time = Date.parse(from); time <= Date.parse(to) && days.length < 400; time += 86_400_000)
    days.push(new Date(time).toISOString().slice(0, 10));
  return days;
}

/** Cost per day as SVG bars; every day of the period has a bar, the table beside it carries the numbers. */
function DayChart({ report }: { report: LedgerReport }) {
  const byDay = new Map(report.rows.map((row) => [row.key, row.costUsd]));
  const days = eachDay(report.from, report.to);
  const max = Math.max(...days.map((day) => byDay.get(day) ?? 0), 0.000001);
  const width = 640;
  const height = 180;
  const barWidth = width / Math.max(days.length, 1);
  return (
    <figure>
      <svg
        viewBox={`0 0 ${width} ${height + 20}`}
        role="img"
        aria-labelledby="chart-title chart-desc"
        className="chart"
      >
        <title id="chart-title">
          Cost per day from {report.from} to {report.to}
        </title>
        <desc id="chart-desc">
          {days.length} days, highest {usd(max === 0.000001 ? 0 : max)}, total {usd(report.totalUsd)}.
        </desc>
        {days.map((day, index) => {
          const cost = byDay.get(day) ?? 0;
          const barHeight = (cost / max) * height;
          return (
            <rect
              key={day}
              x={index * barWidth + 1}
              y={height - barHeight}
              width={Math.max(barWidth - 2, 1)}
              height={barHeight}
              className="bar"
            >
              <title>
                {day}: {usd(cost)}
              </title>
            </rect>
          );
        })}
        <line x1="0" y1={height} x2={width} y2={height} className="axis" />
        <text x="2" y="12" className="tick">
          {usd(max === 0.000001 ? 0 : max)}
        </text>
        <text x="0" y={height + 15} className="tick">
          {report.from}
        </text>
        <text x={width} y={height + 15} textAnchor="end" className="tick">
          {report.to}
        </text>
      </svg>
      <figcaption className="muted">Hover a bar for its day; the CSV holds every row.</figcaption>
    </figure>
  );
}

function CostTable({ title, report }: { title: string; report: LedgerReport }) {
  return (
    <section className="card" aria-label={title}>
      <h2>{title}</h2>
      <table className="list numbers">
        <thead>
          <tr>
            <th scope="col">{report.groupBy}</th>
            <th scope="col">Cost</th>
            <th scope="col">Runs</th>
            <th scope="col">Attempts</th>
            <th scope="col">Input tokens</th>
            <th scope="col">Output tokens</th>
          </tr>
        </thead>
        <tbody>
          {report.rows.map((row) => (
            <tr key={row.key}>
              <th scope="row">{row.key}</th>
              <td>{usd(row.costUsd)}</td>
              <td>{row.runs}</td>
              <td>{row.attempts}</td>
              <td>{row.inputTokens}</td>
              <td>{row.outputTokens}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row">Total</th>
            <td>{usd(report.totalUsd)}</td>
            <td colSpan={4} />
          </tr>
        </tfoot>
      </table>
    </section>
  );
}

/** One tenant's month: spent, reserved and available as parts of the limit. */
function BudgetBar({ budget }: { budget: Budget }) {
  const total = Math.max(budget.limitUsd, budget.spentUsd + budget.reservedUsd, 0.000001);
  const parts = [
    { name: 'spent', value: budget.spentUsd },
    { name: 'reserved', value: budget.reservedUsd },
    { name: 'available', value: Math.max(budget.availableUsd, 0) },
  ];
  let x = 0;
  return (
    <div className="budget">
      <h3>
        {budget.tenantId}{' '}
        <span className="muted">
          ({budget.month}, limit {usd(budget.limitUsd)})
        </span>
      </h3>
      <svg
        viewBox="0 0 400 24"
        preserveAspectRatio="none"
        role="img"
        aria-label={`${budget.tenantId}: spent ${usd(budget.spentUsd)}, reserved ${usd(budget.reservedUsd)}, available ${usd(budget.availableUsd)} of ${usd(budget.limitUsd)}`}
        className="budget-bar"
      >
        {parts.map((part) => {
          const width = (part.value / total) * 400;
          const rect = (
            <rect key={part.name} x={x} y={0} width={width} height={24} className={`part-${part.name}`} />
          );
          x += width;
          return rect;
        })}
      </svg>
      <p className="legend">
        <span className="key part-spent" /> spent {usd(budget.spentUsd)}{' '}
        <span className="key part-reserved" /> reserved {usd(budget.reservedUsd)}{' '}
        <span className="key part-available" /> available {usd(budget.availableUsd)}
      </p>
    </div>
  );
}
