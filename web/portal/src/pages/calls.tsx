/** Calls: the user's live calls, what each presents both ways, and Copy (online copy over REST). */
import { idempotencyKey, must, type Schemas } from '../../../api/client';
import { loadResources, own, titleOf, type Resource } from '../catalog';
import { usePortal } from '../context';
import { chargeText, dateTime, Loading, MediaPreview, Outcome, Page, useAction, useLoad } from '../ui';
import { useEffect } from 'preact/hooks';

type Call = Schemas['PresentingSession'];

/** The portal as a registered CMR client (`/v1/clients`), for online copies. */
export const PORTAL_CLIENT = { id: 'cmr-portal', version: __CMR_VERSION__ };
const REFRESH_MS = 5000;
const STATE: Record<Call['state'], string> = { early: 'ringing', confirmed: 'answered', ended: 'ended' };

export function CallsPage() {
  const portal = usePortal();
  const loaded = useLoad(async () => {
    const [calls, resources] = await Promise.all([must(portal.api.GET('/v1/users/{uid}/calls/current', { params: own(portal) })), loadResources(portal.api)]);
    return { calls, resources };
  });
  useEffect(() => {
    const timer = setInterval(loaded.reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [loaded.reload]);
  return (
    <Page title="Calls">
      <div class="section-head">
        <p class="muted">Your calls being set up or answered, refreshed every few seconds.</p>
        <button type="button" onClick={loaded.reload}>
          Refresh
        </button>
      </div>
      <Loading loaded={loaded}>
        {({ calls, resources }) =>
          calls.length === 0 ? (
            <p>No live calls.</p>
          ) : (
            <ul class="cards">
              {calls.map((call) => (
                <CallCard key={call.callId} call={call} resources={resources} />
              ))}
            </ul>
          )
        }
      </Loading>
    </Page>
  );
}

function CallCard({ call, resources }: { call: Call; resources: Map<string, Resource> }) {
  const portal = usePortal();
  const [state, run] = useAction();
  const iAmCaller = call.caller === portal.uid;
  const peer = iAmCaller ? call.called : call.caller;
  const toMe = iAmCaller ? call.toCaller : call.toCalled;
  const fromMe = iAmCaller ? call.toCalled : call.toCaller;
  const names = (list: Call['toCaller']) => (list.length ? list.map((p) => titleOf(resources, p.resourceId)).join(', ') : 'nothing');
  const headingId = `call-${call.callId}`;

  const copy = () =>
    run(async () => {
      const answer = await must(
        portal.api.POST('/v1/users/{uid}/copies', {
          params: { ...own(portal), header: { 'idempotency-key': idempotencyKey() } },
          body: { mode: 'online', peer, client: PORTAL_CLIENT },
        }),
      );
      return answer.result === 'already-owned' ? `You already hold ${names(toMe)}: nothing charged.` : `Copied ${names(toMe)} into your library: ${chargeText(answer.charge)}.`;
    });

  return (
    <li class="card" aria-labelledby={headingId}>
      <h2 id={headingId} class="card-title">
        {iAmCaller ? `Call to ${peer}` : `Call from ${peer}`}
      </h2>
      <dl class="facts">
        <dt>State</dt>
        <dd>{STATE[call.state]}</dd>
        <dt>Started</dt>
        <dd>{dateTime(call.startedAt)}</dd>
        <dt>You are presented</dt>
        <dd>{names(toMe)}</dd>
        <dt>You present</dt>
        <dd>{names(fromMe)}</dd>
      </dl>
      {toMe.map((p) => {
        const resource = resources.get(p.resourceId);
        return resource ? <MediaPreview key={p.resourceId} resource={{ ...resource, contentUri: p.contentUri }} /> : null;
      })}
      <div class="actions">
        <button type="button" class="primary" disabled={toMe.length === 0 || state.busy} onClick={copy} aria-label={`Copy what ${peer} presents`}>
          Copy
        </button>
      </div>
      <Outcome state={state} />
    </li>
  );
}
