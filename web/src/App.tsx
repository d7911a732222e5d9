import { useEffect, useMemo, useRef, useState } from 'react';
import { createApi } from './api/client.ts';
import { restoreSession, signOut, type Session } from './auth.ts';
import type { RuntimeConfig } from './config.ts';
import { Console } from './context.ts';
import { viewsFor, type ViewDef } from './nav.ts';
import { href, navigate, useRoute, type Route } from './router.ts';
import { SignIn } from './views/SignIn.tsx';
import { DraftList } from './views/DraftList.tsx';
import { Review } from './views/Review.tsx';
import { Finance } from './views/Finance.tsx';
import { Ops } from './views/Ops.tsx';
import { Shortcuts } from './views/Shortcuts.tsx';

function viewRoute(id: ViewDef['id']): Route {
  return id === 'ops' ? { name: 'ops', runId: null, tenantId: null } : { name: id };
}

export function App({ config }: { config: RuntimeConfig }) {
  const [session, setSession] = useState<Session | null>(null);
  const [restoring, setRestoring] = useState(true);
  const [startError, setStartError] = useState<string | null>(null);
  const route = useRoute();
  const tokenRef = useRef<string | null>(null);
  tokenRef.current = session?.token ?? null;

  useEffect(() => {
    restoreSession(config).then(
      (restored) => {
        setSession(restored);
        setRestoring(false);
      },
      (error: unknown) => {
        setStartError(error instanceof Error ? error.message : 'Sign-in could not be completed.');
        setRestoring(false);
      },
    );
  }, [config]);

  const api = useMemo(
    () =>
      createApi(
        config.apiBaseUrl,
        () => tokenRef.current,
        () => {
          setSession(null);
        },
      ),
    [config.apiBaseUrl],
  );

  if (restoring) return <p className="page">Loading…</p>;
  if (!session)
    return (
      <SignIn
        config={config}
        error={startError}
        onSignedIn={(signedIn) => {
          setSession(signedIn);
          navigate({ name: 'home' });
        }}
      />
    );

  const views = viewsFor(session.roles);
  const first = views[0];
  const current: Route = route.name === 'home' && first ? viewRoute(first.id) : route;
  const allowed = (name: string) =>
    views.some((view) => view.id === name || (name === 'draft' && view.id === 'inbox'));
  const activeView = current.name === 'draft' ? current.from : current.name;

  return (
    <Console.Provider value={{ api, session, config }}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Rein</span>
        <nav aria-label="Main">
          <ul>
            {views.map((view) => (
              <li key={view.id}>
                <a href={href(viewRoute(view.id))} aria-current={activeView === view.id ? 'page' : undefined}>
                  {view.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span className="who">
          {session.sub} · {session.tenantId} · {session.roles.join(', ')}
        </span>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            void signOut(config).then(() => {
              setSession(null);
            });
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" className="page">
        {!allowed(current.name) ? (
          <p role="alert">Your role has no access to this view.</p>
        ) : current.name === 'inbox' ? (
          <DraftList mode="inbox" />
        ) : current.name === 'escalations' ? (
          <DraftList mode="escalations" />
        ) : current.name === 'draft' ? (
          <Review key={current.draftId} draftId={current.draftId} from={current.from} />
        ) : current.name === 'finance' ? (
          <Finance />
        ) : current.name === 'ops' ? (
          <Ops runId={current.runId} tenantId={current.tenantId} />
        ) : (
          <p>Your roles give you no view in the console.</p>
        )}
      </main>
      <Shortcuts />
    </Console.Provider>
  );
}
