/**
 * The CMR Handset page (`/handset/`): the browser CMR Client of the online copy flow. Signed in
 * as in the portal, it registers the token's identity with the embedded front over WebSocket,
 * calls and takes calls, shows and plays what the other party presents, and copies it.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { createApi, type Schemas } from '../../api/client';
import type { Session } from '../../api/session';
import { SignInPage, useSignIn } from '../../portal/src/sign-in';
import { Alert, Field, MediaPreview, Page } from '../../portal/src/ui';
import { Phone, type CallView, type PhoneView } from './phone';
import type { SipSettings } from './sip-addresses';

const SITE = 'CMR Handset';

export function App() {
  const { state, signedIn, signOut } = useSignIn();
  if (state.kind === 'checking') return <p role="status">Signing in…</p>;
  if (state.kind === 'signed-out') return <SignInPage site={SITE} notice={state.notice} onSignedIn={signedIn} />;
  return <SignedIn session={state.session} signOut={signOut} />;
}

type Resource = Schemas['Resource'];

function SignedIn({ session, signOut }: { session: Session; signOut: (reason?: string | null) => void }) {
  const identity = session.who.identity;
  const [sip, setSip] = useState<SipSettings | { error: string } | null>(null);
  useEffect(() => {
    fetch('/handset/sip.json')
      .then((r) => (r.ok ? (r.json() as Promise<SipSettings>) : Promise.reject(new Error(`the server answered ${r.status}`))))
      .then(setSip, (err: Error) => setSip({ error: `the server's SIP settings cannot be read: ${err.message}` }));
  }, []);

  let body;
  if (!identity) body = <Alert message="This access token names no user identity: a handset signs in as a user." />;
  else if (sip === null) body = <p role="status">Connecting…</p>;
  else if ('error' in sip) body = <Alert message={sip.error} />;
  else if (sip.webSocketPort === null) body = <Alert message="This server takes no handsets over WebSocket (CMR_SIP_WS_PORT is not set)." />;
  else body = <Handset session={session} identity={identity} sip={{ ...sip, webSocketPort: sip.webSocketPort }} signOut={signOut} />;

  return (
    <>
      <header class="bar">
        <span class="brand">{SITE}</span>
        <span class="who">
          Signed in as <strong>{identity ?? session.who.sub}</strong>
        </span>
        <button type="button" class="sign-out" onClick={() => signOut(null)}>
          Sign out
        </button>
      </header>
      <Page title="Handset" site={SITE}>
        {body}
      </Page>
    </>
  );
}

function Handset({ session, identity, sip, signOut }: { session: Session; identity: string; sip: SipSettings & { webSocketPort: number }; signOut: (reason?: string | null) => void }) {
  const api = useMemo(() => createApi(session.token, (reason) => signOut(`the server refused the access token: ${reason}`), null), [session]);
  const [resources, setResources] = useState<Map<string, Resource | null>>(new Map());
  const resourcesRef = useRef(resources);
  resourcesRef.current = resources;
  const remoteAudio = useRef<HTMLAudioElement>(null);
  const [view, setView] = useState<PhoneView>({ registration: { state: 'connecting' }, call: null });
  const phone = useMemo(
    () => new Phone({ identity, token: session.token }, sip, () => remoteAudio.current, setView, (id) => resourcesRef.current.get(id)?.title ?? id),
    [identity, session.token],
  );
  useEffect(() => {
    void phone.start();
    return () => void phone.stop();
  }, [phone]);

  // Titles of what is presented, looked up once each over REST.
  const presented = view.call?.presented ?? [];
  useEffect(() => {
    for (const { resourceId } of presented) {
      if (resources.has(resourceId)) continue;
      setResources((known) => new Map(known).set(resourceId, null));
      void api.GET('/v1/resources/{id}', { params: { path: { id: resourceId } } }).then(({ data }) => data && setResources((known) => new Map(known).set(resourceId, data)));
    }
  }, [presented]);

  // The copy key: `*` sends the DTMF copy.
  useEffect(() => {
    const pressed = (event: KeyboardEvent) => {
      if (event.key !== '*' || (event.target as HTMLElement | null)?.closest('input, textarea')) return;
      event.preventDefault();
      phone.copy('dtmf');
    };
    addEventListener('keydown', pressed);
    return () => removeEventListener('keydown', pressed);
  }, [phone]);

  return (
    <>
      <p class="status" role="status">
        {view.registration.state === 'connecting' && 'Registering…'}
        {view.registration.state === 'registered' && `Registered as ${identity}: ready to call and be called.`}
      </p>
      {view.registration.state === 'failed' && <Alert message={`Not registered: ${view.registration.reason}.`} />}
      <Dialler phone={phone} busy={Boolean(view.call && view.call.state !== 'ended')} />
      {view.call && <CallPanel call={view.call} phone={phone} resources={resources} />}
      <audio ref={remoteAudio} autoPlay aria-label="The other party" />
    </>
  );
}

function Dialler({ phone, busy }: { phone: Phone; busy: boolean }) {
  const [number, setNumber] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(await phone.call(number));
  };
  return (
    <form class="card" onSubmit={submit} noValidate>
      <Field label="Number" error={error} hint="A global number (+15551230002), or a tel: or sip: URI.">
        {(props) => <input {...props} type="tel" autoComplete="off" value={number} onInput={(e) => setNumber(e.currentTarget.value)} />}
      </Field>
      <button type="submit" class="primary" disabled={busy}>
        Call
      </button>
    </form>
  );
}

const CALL_STATES: Record<CallView['state'], (peer: string) => string> = {
  calling: (peer) => `Calling ${peer}…`,
  ringing: (peer) => `Ringing ${peer}…`,
  incoming: (peer) => `Incoming call from ${peer}`,
  connected: (peer) => `In a call with ${peer}`,
  ended: () => 'Call ended',
};

function CallPanel({ call, phone, resources }: { call: CallView; phone: Phone; resources: Map<string, Resource | null> }) {
  const live = call.state !== 'ended';
  const ringing = call.state === 'calling' || call.state === 'ringing' || call.state === 'incoming';
  return (
    <section class="card call" aria-label="Call">
      <p class="call-state" role="status">
        {CALL_STATES[call.state](call.peer)}
      </p>
      {call.ended && <p class="muted">{call.ended}</p>}
      <div class="actions">
        {call.state === 'incoming' && (
          <button type="button" class="primary" onClick={() => void phone.answer()}>
            Answer
          </button>
        )}
        {live && (
          <button type="button" onClick={() => void phone.hangUp()}>
            Hang up
          </button>
        )}
      </div>
      {live && call.presented.length > 0 && (
        <div class="presenting-now">
          <h2>Now presenting:</h2>
          <ul>
            {call.presented.map(({ resourceId, contentUri }) => {
              const resource = resources.get(resourceId);
              return (
                <li key={resourceId}>
                  <strong>{resource?.title ?? resourceId}</strong>
                  {resource?.type === 'audio' && ringing ? (
                    <audio class="media" autoPlay controls src={contentUri} aria-label={`Listen to ${resource.title}`} />
                  ) : (
                    resource && <MediaPreview resource={resource} />
                  )}
                </li>
              );
            })}
          </ul>
        </div>
      )}
      {live && call.direction === 'outgoing' && (
        <div class="copy">
          <button type="button" onClick={() => phone.copy('info')} disabled={!call.copyOffered || call.copy.busy}>
            Copy
          </button>
          <span class="muted"> or press * to copy by the copy key</span>
          <p class="status" role="status">
            {!call.copy.refused && call.copy.outcome}
          </p>
          {call.copy.refused && call.copy.outcome && <Alert message={call.copy.outcome} />}
        </div>
      )}
    </section>
  );
}
