/**
 * The portal's shell: sign-in, then the pages of the signed-in role behind a navigation bar. Pages
 * are addressed by the URL fragment (`#/library`), so the server serves one file for all of them.
 */
import type { FunctionComponent } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { createApi } from '../../api/client';
import type { Session } from '../../api/session';
import { PortalContext, type Portal } from './context';
import { ActivityPage } from './pages/activity';
import { CallsPage } from './pages/calls';
import { CatalogManagementPage } from './pages/catalog-management';
import { CatalogPage } from './pages/catalog';
import { ChargesPage } from './pages/charges';
import { ClientsPage } from './pages/clients';
import { LibraryPage } from './pages/library';
import { LiveActivityPage } from './pages/live-activity';
import { PreferencesPage } from './pages/preferences';
import { PrivacyPage } from './pages/privacy';
import { PresentingNow } from './pages/presenting-now';
import { SignInPage, useSignIn } from './sign-in';

interface Route {
  path: string;
  title: string;
  page: FunctionComponent;
}

const USER_ROUTES: Route[] = [
  { path: 'library', title: 'Library', page: LibraryPage },
  { path: 'catalog', title: 'Catalog', page: CatalogPage },
  { path: 'preferences', title: 'Preferences', page: PreferencesPage },
  { path: 'privacy', title: 'Privacy', page: PrivacyPage },
  { path: 'calls', title: 'Calls', page: CallsPage },
  { path: 'charges', title: 'Charges', page: ChargesPage },
  { path: 'activity', title: 'Activity', page: ActivityPage },
];
const SP_ROUTES: Route[] = [
  { path: 'catalog-management', title: 'Catalog management', page: CatalogManagementPage },
  { path: 'clients', title: 'Clients', page: ClientsPage },
  { path: 'charges', title: 'Charges', page: ChargesPage },
  { path: 'live-activity', title: 'Live activity', page: LiveActivityPage },
];

const currentPath = () => location.hash.replace(/^#\/?/, '');

function useHashPath(): string {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const changed = () => setPath(currentPath());
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return path;
}

export function App() {
  const { state, signedIn, signOut } = useSignIn();
  if (state.kind === 'checking') return <p role="status">Signing in…</p>;
  if (state.kind === 'signed-out') return <SignInPage notice={state.notice} onSignedIn={signedIn} />;
  return <SignedIn session={state.session} signOut={signOut} />;
}

function SignedIn({ session, signOut }: { session: Session; signOut: (reason?: string | null) => void }) {
  const portal = useMemo<Portal>(
    () => ({
      api: createApi(session.token, (reason) => signOut(`the server refused the access token: ${reason}`)),
      token: session.token,
      who: session.who,
      uid: session.who.identity ?? session.who.sub,
      signOut: (reason?: string) => signOut(reason ?? null),
    }),
    [session],
  );
  const routes = session.who.role === 'sp' ? SP_ROUTES : USER_ROUTES;
  const path = useHashPath();
  const route = routes.find((r) => r.path === path) ?? routes[0]!;
  const Page = route.page;

  return (
    <PortalContext.Provider value={portal}>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header class="bar">
        <span class="brand">CMR Portal</span>
        <span class="who">
          {session.who.role === 'sp' ? 'Service provider' : 'Signed in as'} <strong>{session.who.identity ?? session.who.sub}</strong>
        </span>
        {session.who.role === 'sp' && <PresentingNow />}
        <button type="button" class="sign-out" onClick={() => signOut(null)}>
          Sign out
        </button>
      </header>
      <nav aria-label="Portal pages" class="nav">
        <ul>
          {routes.map((r) => (
            <li key={r.path}>
              <a href={`#/${r.path}`} aria-current={r === route ? 'page' : undefined}>
                {r.title}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <Page key={route.path} />
    </PortalContext.Provider>
  );
}
