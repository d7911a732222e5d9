import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Env } from '#shared/config.ts';
import type { MetricsSink } from '#shared/ports/index.ts';

/** The CloudWatch namespace of every Rein metric; the environment is a dimension. */
export const METRICS_NAMESPACE = 'Rein';

/**
 * Metrics in CloudWatch embedded metric format (Powertools Metrics): each count is written at once
 * as its own EMF record with its dimensions and the environment, so no flush is ever missed. The
 * local stack keeps them in memory instead of printing EMF lines (it has no CloudWatch).
 */
export function emfMetrics(env: Readonly<Pick<Env, 'REIN_ENV'>>): MetricsSink {
  if (env.REIN_ENV === 'local') return new InMemoryMetrics();
  const metrics = new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: 'rein',
    defaultDimensions: { environment: env.REIN_ENV },
  });
  return {
    count(name, value, dimensions) {
      const single = metrics.singleMetric();
      single.addDimensions(dimensions);
      single.addMetric(name, MetricUnit.Count, value);
    },
    measure(name, value, unit, dimensions) {
      const single = metrics.singleMetric();
      single.addDimensions(dimensions);
      single.addMetric(name, unit === 'Milliseconds' ? MetricUnit.Milliseconds : MetricUnit.NoUnit, value);
    },
  };
}

/** Counts kept in memory, by metric name (the local stack and tests). */
export class InMemoryMetrics implements MetricsSink {
  readonly counts = new Map<string, number>();
  count(name: string, value: number): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + value);
  }
  measure(name: string, value: number): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + value);
  }
}
