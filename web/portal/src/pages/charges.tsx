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
          <table>
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
                  <td>{dateTime(c.at)}</td>
                  {sp && <td>{c.subscriber}</td>}
                  <td>
                    {c.kind}
                    {c.resourceIds.length ? ` · ${c.resourceIds.join(', ')}` : ''}
                  </td>
                  <td>{money(c.amount, c.currency)}</td>
                  <td>
                    {c.outcome}
                    {c.reason ? ` (${c.reason})` : ''}
                  </td>
                  <td class="mono">{c.id}</td>
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
