import { useEffect, useState, type SyntheticEvent } from 'react';
import { listDemoUsers, signInCognito, signInLocal, type DemoUser, type Session } from '../auth.ts';
import type { RuntimeConfig } from '../config.ts';

/** Local stack: "Sign in as" one of the demo users. AWS: the Cognito managed login (code + PKCE). */
export function SignIn(props: {
  config: RuntimeConfig;
  error: string | null;
  onSignedIn: (session: Session) => void;
}) {
  const { config } = props;
  const [users, setUsers] = useState<DemoUser[]>([]);
  const [selected, setSelected] = useState('');
  const [error, setError] = useState<string | null>(props.error);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (config.auth.mode !== 'local') return;
    listDemoUsers().then(
      (found) => {
        setUsers(found);
        setSelected((current) => current || (found[0] ? `${found[0].tenantId}/${found[0].sub}` : ''));
      },
      (failure: unknown) => {
        setError(failure instanceof Error ? failure.message : 'The demo users could not be loaded.');
      },
    );
  }, [config.auth.mode]);

  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const done = (failure: unknown) => {
      setBusy(false);
      setError(failure instanceof Error ? failure.message : 'Sign-in failed.');
    };
    if (config.auth.mode === 'cognito') {
      signInCognito(config.auth).catch(done);
      return;
    }
    const user = users.find((candidate) => `${candidate.tenantId}/${candidate.sub}` === selected);
    if (!user) {
      done(new Error('Choose a user.'));
      return;
    }
    signInLocal(user, config).then(props.onSignedIn, done);
  };

  return (
    <main id="main" className="page signin">
      <h1>Rein review console</h1>
      <form onSubmit={submit} className="card">
        {config.auth.mode === 'local' ? (
          <>
            <h2>Sign in as</h2>
            <p className="muted">
              Local stack ({config.stage}): the demo users of the seed, signed by the dev issuer.
            </p>
            <fieldset className="users">
              <legend>Demo user</legend>
              {users.map((user) => {
                const id = `${user.tenantId}/${user.sub}`;
                return (
                  <label key={id} className="user">
                    <input
                      type="radio"
                      name="user"
                      value={id}
                      checked={selected === id}
                      onChange={() => {
                        setSelected(id);
                      }}
                    />
                    <span>
                      <strong>{user.name}</strong> <span className="muted">{user.sub}</span>
                      <br />
                      <span className="muted">
                        {user.tenantId} · {user.roles.join(', ')}
                      </span>
                    </span>
                  </label>
                );
              })}
            </fieldset>
          </>
        ) : (
          <>
            <h2>Sign in</h2>
            <p className="muted">You will be sent to the {config.stage} sign-in page and back.</p>
          </>
        )}
        {error ? (
          <p role="alert" className="error">
            {error}
          </p>
        ) : null}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
