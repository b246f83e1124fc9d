/** Activity: the user's activity records (management actions, copies, gifts), newest first. */
import { must } from '../../../api/client';
import { usePortal } from '../context';
import { Page, PagedFooter, usePaged } from '../ui';
import { ActivityTable } from './activity-table';

export function ActivityPage() {
  const portal = usePortal();
  const paged = usePaged(
    (cursor) => must(portal.api.GET('/v1/users/{uid}/activities', { params: { path: { uid: portal.uid }, query: { limit: 25, ...(cursor ? { cursor } : {}) } } })),
    [portal],
  );
  return (
    <Page title="Activity">
      {!paged.loading && paged.items.length === 0 && !paged.error && <p>No activity yet.</p>}
      {paged.items.length > 0 && <ActivityTable items={paged.items} caption="Your activity, newest first" />}
      <PagedFooter paged={paged} />
    </Page>
  );
}
