/** Charges: the user's charges, or for the SP every charge, newest first, page by page. */
import { must } from '../../../api/client';
import { usePortal } from '../context';
import { money, dateTime, Page, PagedFooter, usePaged } from '../ui';

export function ChargesPage() {
  const portal = usePortal();
  const sp = portal.who.role === 'sp';
  const paged = usePaged(
    (cursor) =>
      sp
        ? must(portal.api.GET('/v1/charges', { params: { query: { limit: 25, ...(cursor ? { cursor } : {}) } } }))
        : must(portal.api.GET('/v1/users/{uid}/charges', { params: { path: { uid: portal.uid }, query: { limit: 25, ...(cursor ? { cursor } : {}) } } })),
    [portal],
  );
  return (
    <Page title="Charges">
      {!paged.loading && paged.items.length === 0 && !paged.error && <p>No charges yet.</p>}
      {paged.items.length > 0 && (
        <div class="table-wrap">
          <table class="stack">
            <caption class="visually-hidden">Charges, newest first</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                {sp && <th scope="col">Subscriber</th>}
                <th scope="col">What</th>
                <th scope="col">Amount</th>
                <th scope="col">Outcome</th>
                <th scope="col">Charge</th>
              </tr>
            </thead>
            <tbody>
              {paged.items.map((c) => (
                <tr key={c.id}>
                  <td data-label="When">{dateTime(c.at)}</td>
                  {sp && <td data-label="Subscriber">{c.subscriber}</td>}
                  <td data-label="What">
                    {c.kind}
                    {c.resourceIds.length ? ` · ${c.resourceIds.join(', ')}` : ''}
                  </td>
                  <td data-label="Amount">{money(c.amount, c.currency)}</td>
                  <td data-label="Outcome">
                    {c.outcome}
                    {c.reason ? ` (${c.reason})` : ''}
                  </td>
                  <td data-label="Charge" class="mono">{c.id}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <PagedFooter paged={paged} />
    </Page>
  );
}
