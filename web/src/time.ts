import type { DraftSummary } from './api/client.ts';

/** When a draft's review times out: its `expiresAt` when the API sends one, else created + the stage's timeout. */
export function expiresAt(
  draft: Pick<DraftSummary, 'createdAt' | 'expiresAt'>,
  reviewTimeoutSeconds: number,
): number {
  const sent = draft.expiresAt;
  if (typeof sent === 'string' && !Number.isNaN(Date.parse(sent))) return Date.parse(sent);
  return Date.parse(draft.createdAt) + reviewTimeoutSeconds * 1000;
}

export function formatDuration(ms: number): string {
  if (ms <= 0) return 'expired';
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return `${Math.ceil(ms / 1000)} s`;
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} days`;
}

export function formatAge(iso: string, now = Date.now()): string {
  const ms = now - Date.parse(iso);
  if (Number.isNaN(ms)) return 'unknown';
  if (ms < 60_000) return 'just now';
  return `${formatDuration(ms)} ago`;
}

export function usd(value: number): string {
  return `$${value.toFixed(value !== 0 && Math.abs(value) < 0.01 ? 6 : 2)}`;
}
