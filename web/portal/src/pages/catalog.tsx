/**
 * Catalog: the available resources with their price and a player or preview; Subscribe, Gift to
 * another user, the SP's boxes with Subscribe, and Copy from another user's library.
 */
import { useState } from 'preact/hooks';
import { GiftBody, OfflineCopyBody } from '../../../api/schemas';
import { idempotencyKey, must } from '../../../api/client';
import { checkIdentity, limitsOf } from '../../../api/fields';
import { loadResources, own, titleOf, type Box, type Resource } from '../catalog';
import { usePortal } from '../context';
import { chargeText, Field, Loading, MediaPreview, money, Outcome, Page, Section, useAction, useLoad } from '../ui';

export function CatalogPage() {
  const portal = usePortal();
  const { api } = portal;
  const loaded = useLoad(async () => {
    const [resources, boxes] = await Promise.all([loadResources(api, 'available'), must(api.GET('/v1/boxes'))]);
    return { resources, boxes };
  });
  return (
    <Page title="Catalog">
      <Loading loaded={loaded}>
        {({ resources, boxes }) => (
          <>
            <Section title="Resources">
              <ul class="cards">
                {[...resources.values()].map((resource) => (
                  <ResourceCard key={resource.id} resource={resource} />
                ))}
              </ul>
            </Section>
            <Section title="Boxes">
              {boxes.length === 0 ? (
                <p>No boxes in the catalog.</p>
              ) : (
                <ul class="cards">
                  {boxes.map((box) => (
                    <BoxCard key={box.id} box={box} resources={resources} />
                  ))}
                </ul>
              )}
            </Section>
            <CopyFrom resources={resources} />
          </>
        )}
      </Loading>
    </Page>
  );
}

function ResourceCard({ resource }: { resource: Resource }) {
  const portal = usePortal();
  const { api } = portal;
  const [state, run] = useAction();
  const [giftTo, setGiftTo] = useState('');
  const [giftError, setGiftError] = useState<string | null>(null);
  const headingId = `resource-${resource.id}`;
  const { prices } = resource;

  const subscribe = () =>
    run(async () => {
      const answer = await must(
        api.POST('/v1/users/{uid}/library', { params: { ...own(portal), header: { 'idempotency-key': idempotencyKey() } }, body: { resourceId: resource.id } }),
      );
      return `Subscribed to ${resource.title} until ${new Date(answer.entry.expiresAt).toLocaleDateString()}: ${chargeText(answer.charge)}.`;
    });

  const gift = (event: Event) => {
    event.preventDefault();
    const problem = checkIdentity(giftTo.trim()) ?? null;
    setGiftError(problem && `Gift to ${problem}`);
    if (problem) return;
    void run(async () => {
      const answer = await must(
        api.POST('/v1/users/{uid}/gifts', {
          params: { ...own(portal), header: { 'idempotency-key': idempotencyKey() } },
          body: { to: giftTo.trim(), resourceId: resource.id },
        }),
      );
      setGiftTo('');
      return `Gave ${resource.title} to ${answer.to}: ${chargeText(answer.charge)}.`;
    });
  };

  return (
    <li class="card" aria-labelledby={headingId}>
      <h3 id={headingId} class="card-title">
        {resource.title}
      </h3>
      <dl class="facts">
        <dt>Type</dt>
        <dd>{resource.type}</dd>
        <dt>Categories</dt>
        <dd>{resource.categories.join(', ') || '—'}</dd>
        <dt>Price</dt>
        <dd>
          {money(prices.subscribe, prices.currency)} for {resource.validityDays} days
        </dd>
        <dt>Gift</dt>
        <dd>{money(prices.gift, prices.currency)}</dd>
      </dl>
      <MediaPreview resource={resource} />
      <div class="actions">
        <button type="button" class="primary" disabled={state.busy} aria-label={`Subscribe to ${resource.title}`} onClick={subscribe}>
          Subscribe
        </button>
      </div>
      <form class="inline-form" onSubmit={gift} noValidate>
        <Field label="Gift to" error={giftError}>
          {(props) => (
            <input {...props} type="text" inputMode="tel" placeholder="tel:+15551230002" maxLength={limitsOf(GiftBody.properties.to).maxLength} value={giftTo} onInput={(e) => setGiftTo(e.currentTarget.value)} />
          )}
        </Field>
        <button type="submit" disabled={state.busy} aria-label={`Gift ${resource.title}`}>
          Gift
        </button>
      </form>
      <Outcome state={state} />
    </li>
  );
}

function BoxCard({ box, resources }: { box: Box; resources: Map<string, Resource> }) {
  const portal = usePortal();
  const [state, run] = useAction();
  const headingId = `box-${box.id}`;
  const subscribe = () =>
    run(async () => {
      const answer = await must(
        portal.api.POST('/v1/users/{uid}/box-subscriptions', { params: { ...own(portal), header: { 'idempotency-key': idempotencyKey() } }, body: { boxId: box.id } }),
      );
      const n = answer.entries.length;
      return `Subscribed to the box ${box.name} (${n} resource${n === 1 ? '' : 's'}): ${chargeText(answer.charge)}.`;
    });
  return (
    <li class="card" aria-labelledby={headingId}>
      <h3 id={headingId} class="card-title">
        {box.name}
      </h3>
      <dl class="facts">
        <dt>Resources</dt>
        <dd>{box.resourceIds.map((id) => titleOf(resources, id)).join(', ')}</dd>
        <dt>Plays</dt>
        <dd>{box.mode === 'random' ? 'one at random per call' : 'one after the other, call by call'}</dd>
        <dt>Price</dt>
        <dd>
          {box.price !== undefined && box.currency ? money(box.price, box.currency) : '—'}
          {box.validityDays ? ` for ${box.validityDays} days` : ''}
        </dd>
      </dl>
      <div class="actions">
        <button type="button" class="primary" disabled={state.busy} aria-label={`Subscribe to the box ${box.name}`} onClick={subscribe}>
          Subscribe
        </button>
      </div>
      <Outcome state={state} />
    </li>
  );
}

/** Offline copy: resources from another user's library, as that user's privacy allows. */
function CopyFrom({ resources }: { resources: Map<string, Resource> }) {
  const portal = usePortal();
  const [state, run] = useAction();
  const copyable = [...resources.values()].filter((r) => r.copyable);
  const [from, setFrom] = useState('');
  const [resourceId, setResourceId] = useState(copyable[0]?.id ?? '');
  const [fromError, setFromError] = useState<string | null>(null);

  const submit = (event: Event) => {
    event.preventDefault();
    const problem = checkIdentity(from.trim());
    setFromError(problem && `Copy from ${problem}`);
    if (problem || !resourceId) return;
    void run(async () => {
      const answer = await must(
        portal.api.POST('/v1/users/{uid}/copies', {
          params: { ...own(portal), header: { 'idempotency-key': idempotencyKey() } },
          body: { mode: 'offline', from: from.trim(), resourceIds: [resourceId] },
        }),
      );
      const what = titleOf(resources, resourceId);
      return answer.result === 'already-owned' ? `You already hold ${what}: nothing charged.` : `Copied ${what} from ${from.trim()}: ${chargeText(answer.charge)}.`;
    });
  };

  return (
    <Section title="Copy from another user's library">
      <form class="card form-grid" onSubmit={submit} noValidate>
        <Field label="Copy from" error={fromError} hint="The identity of the user whose library holds the resource">
          {(props) => (
            <input {...props} type="text" placeholder="tel:+15551230002" maxLength={limitsOf(OfflineCopyBody.properties.from).maxLength} value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
          )}
        </Field>
        <Field label="Resource to copy">
          {(props) => (
            <select {...props} value={resourceId} onChange={(e) => setResourceId(e.currentTarget.value)}>
              {copyable.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.title} ({money(r.prices.copy, r.prices.currency)})
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="submit" disabled={state.busy || copyable.length === 0}>
          Copy
        </button>
        <Outcome state={state} />
      </form>
    </Section>
  );
}
