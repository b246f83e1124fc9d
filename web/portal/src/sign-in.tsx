/** Sign-in: an access token pasted in, or given by a link `…/portal/#token=<JWT>`. */
import { useState } from 'preact/hooks';
import { signIn, type Session } from '../../api/session';
import { Alert, Field, Page } from './ui';

/** `notice`: why the tab is on this page (signed out, or the token could not be checked), a sentence. */
export function SignInPage({ notice, onSignedIn }: { notice: string | null; onSignedIn: (session: Session) => void }) {
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
      <Page title="Sign in to the CMR Portal">
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
