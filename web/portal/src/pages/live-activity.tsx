/**
 * Live activity (SP): every activity record as it is recorded, newest on top, without reloading;
 * after a dropped connection the stream resumes from the last record shown, so none is missed.
 */
import { useEffect, useState } from 'preact/hooks';
import { followActivity, type FeedItem, type StreamState } from '../../../api/activity-stream';
import { usePortal } from '../context';
import { Page } from '../ui';
import { ActivityTable } from './activity-table';

const SHOWN = 500;

const STATE_TEXT = (state: StreamState): string => {
  switch (state.kind) {
    case 'connecting':
      return 'Connecting…';
    case 'live':
      return 'Live: new records appear as they happen.';
    case 'reconnecting':
      return `Connection lost (${state.reason}); reconnecting without missing a record…`;
    case 'refused':
      return `The feed refused this session: ${state.reason}`;
  }
};

export function LiveActivityPage() {
  const portal = usePortal();
  const [items, setItems] = useState<FeedItem[]>([]);
  const [state, setState] = useState<StreamState>({ kind: 'connecting' });
  useEffect(
    () =>
      followActivity({
        token: portal.token,
        onItem: (item) => setItems((shown) => [item, ...shown].slice(0, SHOWN)),
        onState: setState,
        onRefused: (reason) => portal.signOut(`the server refused the access token: ${reason}`),
      }),
    [portal],
  );
  return (
    <Page title="Live activity">
      {/* A status region: a screen reader hears the connection drop and come back too. */}
      <p class={`stream stream-${state.kind}`} data-testid="stream-state" role="status">
        {STATE_TEXT(state)}
      </p>
      {items.length === 0 ? (
        <p class="muted">No record since you opened this page.</p>
      ) : (
        <ActivityTable items={items} caption="Activity records, newest first" showActor />
      )}
      <p class="visually-hidden" role="status" aria-live="polite">
        {items[0] ? `New record: ${items[0].record.kind} by ${items[0].record.actor}` : ''}
      </p>
    </Page>
  );
}
