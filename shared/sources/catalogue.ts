import { contractSource } from './contract.ts';
import { crmSource } from './crm.ts';
import type { SourceDefinition, SourceId } from './definition.ts';
import { invoicesSource } from './invoices.ts';
import { ticketsSource } from './tickets.ts';
import { usageSource } from './usage.ts';

/**
 * Every source Rein knows, each declared once in its own module. Adding a source is adding a
 * declaration here; the ingestion API, connectors and the context layer read only this catalogue.
 */
export const SOURCES: ReadonlyMap<SourceId, SourceDefinition> = new Map(
  [crmSource, usageSource, ticketsSource, invoicesSource, contractSource].map((source) => [
    source.id,
    source,
  ]),
);

/** The declared source, or null for an id the catalogue does not hold. */
export function findSource(id: string): SourceDefinition | null {
  return SOURCES.get(id) ?? null;
}
