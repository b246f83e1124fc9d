/**
 * Sign-in, the same on every page (the portal, the handset): an access token pasted in, or given
 * by a link `…/#token=<JWT>`.
 */
import { useEffect, useState } from 'preact/hooks';
import { forgetToken, signIn, storedToken, takeTokenFromLink, watchExpiry, type Session } from '../../api/session';
import { Alert, Field, Page } from './ui';

export type SignInState = { kind: 'checking' } | { kind: 'signed-out'; notice: string | null } | { kind: 'signed-in'; session: Session };

/**
 * The page's sign-in: a sign-in link's token first, else the one this tab already holds; a link
 * opened later in the same tab (only the fragment changes) signs in with its token too. The
 * session ends when the token expires.
 */
export function useSignIn(): { state: SignInState; signedIn: (session: Session) => void; signOut: (reason?: string | null) => void } {
  const [state, setState] = useState<SignInState>({ kind: 'checking' });
  const signOut = (reason: string | null = null) => {
    forgetToken();
    setState({ kind: 'signed-out', notice: reason && `You were signed out: ${reason}.` });
  };
  useEffect(() => {
    const start = (token: string | null) => {
      if (!token) return setState({ kind: 'signed-out', notice: null });
      void signIn(token).then((answer) => {
        if ('session' in answer) setState({ kind: 'signed-in', session: answer.session });
        else if ('refused' in answer) signOut(answer.refused);
        // Nothing against the token: the tab keeps it (signIn stored it), and a reload tries again.
        else setState({ kind: 'signed-out', notice: `Could not sign you in: ${answer.unavailable}. Your access token is kept: reload the page to try again.` });
      });
    };
    start(takeTokenFromLink() ?? storedToken());
    const linkOpened = () => {
      const token = takeTokenFromLink();
      if (token) start(token);
    };
    addEventListener('hashchange', linkOpened);
    return () => removeEventListener('hashchange', linkOpened);
  }, []);
  useEffect(() => {
    if (state.kind !== 'signed-in') return;
    return watchExpiry(state.session.who, (reason) => signOut(reason));
  }, [state]);
  return { state, signedIn: (session) => setState({ kind: 'signed-in', session }), signOut };
}

/** `notice`: why the tab is on this page (signed out, or the token could not be checked), a sentence. */
export function SignInPage({ notice, onSignedIn, site = 'CMR Portal' }: { notice: string | null; onSignedIn: (session: Session) => void; site?: string }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    const answer = await signIn(token);
    setBusy(false);
    if ('session' in answer) onSignedIn(answer.session);
    else setError('refused' in answer ? answer.refused : answer.unavailable);
  };

  return (
    <div class="sign-in">
      <Page title={`Sign in to the ${site}`} site={site}>
        {notice && !error && <Alert message={notice} />}
        <form onSubmit={submit} class="card" noValidate>
          <Field label="Access token" error={error} hint="Your operator's sign-in gives you a link or a token; it stays in this tab only.">
            {(props) => (
              <input
                {...props}
                type="password"
                autoComplete="off"
                spellcheck={false}
                value={token}
                onInput={(e) => setToken(e.currentTarget.value)}
                required
              />
            )}
          </Field>
          <button type="submit" class="primary" disabled={busy}>
            Sign in
          </button>
        </form>
      </Page>
    </div>
  );
}
