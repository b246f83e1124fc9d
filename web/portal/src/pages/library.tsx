/** Library: the user's entries with their origin and expiry; auto-renew, Renew, Cancel, each with its charge. */
import { useEffect, useState } from 'preact/hooks';
import { idempotencyKey, must } from '../../../api/client';
import { loadResources, own, titleOf, type LibraryEntry, type Resource } from '../catalog';
import { usePortal } from '../context';
import { chargeText, date, Loading, Outcome, Page, Switch, useAction, useLoad } from '../ui';

const ORIGIN: Record<LibraryEntry['origin'], string> = {
  subscription: 'Subscription',
  box: 'Box subscription',
  'copy-online': 'Copied during a call',
  'copy-offline': 'Copied from a library',
  gift: 'Gift',
};

export function LibraryPage() {
  const portal = usePortal();
  const { api } = portal;
  const loaded = useLoad(async () => {
    const [entries, resources] = await Promise.all([must(api.GET('/v1/users/{uid}/library', { params: own(portal) })), loadResources(api)]);
    return { entries, resources };
  });
  return (
    <Page title="Library">
      <Loading loaded={loaded}>
        {({ entries, resources }) =>
          entries.length === 0 ? (
            <p>Your library is empty: subscribe to a resource in the Catalog.</p>
          ) : (
            <ul class="cards">
              {entries.map((entry) => (
                <EntryCard key={entry.id} entry={entry} resources={resources} onChanged={loaded.reload} />
              ))}
            </ul>
          )
        }
      </Loading>
    </Page>
  );
}

function EntryCard({ entry: listed, resources, onChanged }: { entry: LibraryEntry; resources: Map<string, Resource>; onChanged: () => void }) {
  const portal = usePortal();
  // The entry as the last answer gave it, until the reloaded library shows it too.
  const [entry, setEntry] = useState(listed);
  useEffect(() => setEntry(listed), [listed]);
  const { api } = portal;
  const [state, run] = useAction();
  const [confirming, setConfirming] = useState(false);
  const title = titleOf(resources, entry.resourceId);
  // A fresh idempotency key for every click: a retried request is charged once, a new click is a new action.
  const params = () => ({ path: { uid: portal.uid, entryId: entry.id }, header: { 'idempotency-key': idempotencyKey() } });
  const editable = entry.status !== 'cancelled' && entry.origin !== 'box';
  const headingId = `entry-${entry.id}`;

  const act = (work: () => Promise<string>) => run(async () => {
    const message = await work();
    onChanged();
    return message;
  });

  return (
    <li class="card" aria-labelledby={headingId}>
      <h2 id={headingId} class="card-title">
        {title}
      </h2>
      <dl class="facts">
        <dt>Origin</dt>
        <dd>
          {ORIGIN[entry.origin]}
          {entry.from ? ` from ${entry.from}` : ''}
        </dd>
        <dt>Status</dt>
        <dd class={`state state-${entry.status}`}>{entry.status}</dd>
        <dt>{entry.status === 'active' ? 'Expires' : 'Expiry'}</dt>
        <dd>{date(entry.expiresAt)}</dd>
      </dl>
      <div class="actions">
        <Switch
          label="Auto-renew"
          of={title}
          checked={entry.autoRenew}
          disabled={!editable || entry.status !== 'active' || state.busy}
          onChange={(autoRenew) =>
            act(async () => {
              const answer = await must(api.PATCH('/v1/users/{uid}/library/{entryId}', { params: params(), body: { autoRenew } }));
              setEntry(answer.entry);
              return `Auto-renew ${autoRenew ? 'on' : 'off'} for ${title}: ${chargeText(answer.charge)}.`;
            })
          }
        />
        <button
          type="button"
          disabled={!editable || state.busy}
          aria-label={`Renew ${title}`}
          onClick={() =>
            act(async () => {
              const answer = await must(api.POST('/v1/users/{uid}/library/{entryId}/renew', { params: params() }));
              setEntry(answer.entry);
              return `Renewed ${title} until ${date(answer.entry.expiresAt)}: ${chargeText(answer.charge)}.`;
            })
          }
        >
          Renew
        </button>
        {confirming ? (
          <span class="confirm">
            <button
              type="button"
              class="danger"
              onClick={() =>
                act(async () => {
                  setConfirming(false);
                  await must(api.DELETE('/v1/users/{uid}/library/{entryId}', { params: params() }));
                  return `Cancelled ${title}: it is no longer presented, renewed or copied.`;
                })
              }
            >
              Confirm cancel
            </button>
            <button type="button" onClick={() => setConfirming(false)}>
              Keep it
            </button>
          </span>
        ) : (
          <button type="button" disabled={entry.status === 'cancelled' || state.busy} aria-label={`Cancel ${title}`} onClick={() => setConfirming(true)}>
            Cancel
          </button>
        )}
      </div>
      <Outcome state={state} />
    </li>
  );
}
