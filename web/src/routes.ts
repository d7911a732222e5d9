/** Hash routes (`#/drafts/d-1`): static hosting needs no rewrite rules and a Cognito redirect lands on `/`. */
export type Route =
  | { name: 'home' }
  | { name: 'inbox' }
  | { name: 'escalations' }
  | { name: 'draft'; draftId: string; from: 'inbox' | 'escalations' }
  | { name: 'finance' }
  | { name: 'ops'; runId: string | null; tenantId: string | null };

export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#/, '').split('?');
  const params = new URLSearchParams(search);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case 'inbox':
      return { name: 'inbox' };
    case 'escalations':
      return { name: 'escalations' };
    case 'drafts':
      return parts[1]
        ? {
            name: 'draft',
            draftId: parts[1],
            from: params.get('from') === 'escalations' ? 'escalations' : 'inbox',
          }
        : { name: 'inbox' };
    case 'finance':
      return { name: 'finance' };
    case 'ops':
      return { name: 'ops', runId: parts[1] ?? null, tenantId: params.get('tenantId') };
    default:
      return { name: 'home' };
  }
}

export function href(route: Route): string {
  switch (route.name) {
    case 'home':
      return '#/';
    case 'draft':
      return `#/drafts/${encodeURIComponent(route.draftId)}${route.from === 'escalations' ? '?from=escalations' : ''}`;
    case 'ops':
      return route.runId
        ? `#/ops/${encodeURIComponent(route.runId)}${route.tenantId ? `?tenantId=${encodeURIComponent(route.tenantId)}` : ''}`
        : '#/ops';
    default:
      return `#/${route.name}`;
  }
}
