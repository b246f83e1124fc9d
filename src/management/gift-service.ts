/**
 * Gifts: a user subscribes a catalog resource for another user. The giver pays the resource's
 * `gift` price; the receiver's `gifts` privacy decides whether the giver may (403 otherwise);
 * the receiver gets an entry with `origin: gift` and `from` the giver, written in the receiver's
 * library through the giver's outbox once the charge is granted.
 */
import type { ActivityRecorder } from '../activity/activity-recorder.js';
import type { ActionOutcome, ChargedActions, ChargeSpec } from '../charging/charged-actions.js';
import type { CatalogService } from '../catalog/catalog-service.js';
import { CmrError } from '../domain/errors.js';
import { parseIdentity, type Identity } from '../domain/identity.js';
import type { LibraryEntry } from '../domain/types.js';
import type { UserStore } from '../store/user-store.js';
import type { ExpiryIndex } from './expiry-index.js';
import { holdsActively, newEntry } from './library-entries.js';
import { availableOrThrow } from './library-service.js';
import { chargeView, idSuffix, locks, runAction, type ChargeView, type Requester } from './management-action.js';
import { audienceAdmits } from '../domain/privacy.js';

export interface GiftAnswer {
  to: Identity;
  entry: LibraryEntry;
  charge: ChargeView;
}

export interface GiftDeps {
  actions: ChargedActions;
  catalog: CatalogService;
  users: UserStore;
  index: ExpiryIndex;
  activities: Pick<ActivityRecorder, 'note'>;
}

export class GiftService {
  constructor(private readonly deps: GiftDeps) {}

  /** Gives the resource; a gift the receiver's privacy refuses is recorded as a denied activity of the giver, as a refused copy is. */
  async give(requester: Requester, input: { to: string; resourceId: string }): Promise<ActionOutcome<GiftAnswer>> {
    try {
      return await this.run(requester, input);
    } catch (err) {
      if (err instanceof CmrError && err.code === 'privacy-forbids') {
        await this.deps.activities.note({
          actor: requester.actor,
          subject: requester.user,
          kind: 'gift',
          channel: requester.channel,
          result: 'denied',
          detail: { code: err.code, reason: err.detail, to: input.to, resourceIds: [input.resourceId] },
        });
      }
      throw err;
    }
  }

  private run(requester: Requester, input: { to: string; resourceId: string }): Promise<ActionOutcome<GiftAnswer>> {
    const parsed = parseIdentity(input.to);
    if (!parsed.ok) throw new CmrError('bad-identity', `to: ${parsed.reason}`);
    const to = parsed.identity;
    const giver = requester.user;
    if (to === giver) throw new CmrError('validation-failed', 'to: a gift goes to another user; subscribe instead');
    const { actions, catalog, users, index } = this.deps;
    return runAction(actions, requester, [locks.gift(to, input.resourceId)], async ({ chargeId, now }) => {
      const resource = availableOrThrow(await catalog.get(input.resourceId));
      const receiver = await users.preferences(to);
      if (!audienceAdmits(receiver.privacy, receiver.privacy.gifts, giver)) {
        throw new CmrError('privacy-forbids', `${to} does not accept gifts from ${giver}`);
      }
      if (holdsActively(await users.library(to).all(), resource.id, now)) {
        throw new CmrError('conflict', `${to} already holds ${resource.id}`);
      }
      const entry = newEntry({ id: `le-${idSuffix(chargeId)}`, resource, origin: 'gift', from: giver, now, chargeId });
      await index.track(to, entry);
      const charge: ChargeSpec = { amount: resource.prices.gift, currency: resource.prices.currency, resourceIds: [resource.id] };
      return {
        kind: 'gift',
        subject: to,
        charge,
        command: { type: 'library.add', args: { entries: [entry], to } },
        answer: { to, entry, charge: chargeView(chargeId, charge) },
        detail: { to, resourceIds: [resource.id], entryIds: [entry.id] },
      };
    });
  }
}
