/**
 * Boxes on the user's side: personal boxes built from the user's own library, and subscriptions
 * to the SP's catalog boxes, which add one entry per resource linked to the box (`origin: box`).
 */
import type { ActionOutcome, ChargedActions, ChargeSpec } from '../charging/charged-actions.js';
import { writes } from '../charging/writes.js';
import type { CatalogService } from '../catalog/catalog-service.js';
import { CmrError } from '../domain/errors.js';
import type { Identity } from '../domain/identity.js';
import type { Box, LibraryEntry, PlayMode, Resource } from '../domain/types.js';
import { isActiveEntry } from '../presentation/select.js';
import type { UserStore } from '../store/user-store.js';
import type { CatalogBoxService } from './catalog-boxes.js';
import type { ExpiryIndex } from './expiry-index.js';
import { holdsActively, newEntry } from './library-entries.js';
import { chargeView, freeEvent, idSuffix, locks, NO_CURRENCY, runAction, type ChargeView, type Requester } from './management-action.js';
import { targetsOf } from './preference-checks.js';

export interface PersonalBoxInput {
  name: string;
  resourceIds: string[];
  mode: PlayMode;
}

export interface BoxAnswer {
  box: Box;
  charge: ChargeView | null;
}

export interface BoxSubscriptionAnswer {
  boxId: string;
  entries: LibraryEntry[];
  charge: ChargeView;
}

export interface BoxDeps {
  actions: ChargedActions;
  catalog: CatalogService;
  catalogBoxes: CatalogBoxService;
  users: UserStore;
  index: ExpiryIndex;
}

export class BoxService {
  constructor(private readonly deps: BoxDeps) {}

  async listPersonal(uid: Identity): Promise<Box[]> {
    return (await this.deps.users.boxes(uid).all()).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** A personal box of resources the user holds actively. */
  define(requester: Requester, input: PersonalBoxInput): Promise<ActionOutcome<BoxAnswer>> {
    return runAction(this.deps.actions, requester, [], async ({ chargeId, now }) => {
      await this.checkHeld(requester.user, input.resourceIds, [], now);
      const at = now.toISOString();
      const box: Box = { id: `pb-${idSuffix(chargeId)}`, ...personalFields(input), owner: requester.user, createdAt: at, updatedAt: at };
      const charge = freeEvent(box.resourceIds);
      return {
        kind: 'box-define',
        charge,
        command: { type: 'writes', args: [writes.create('boxes', box)] },
        answer: { box, charge: chargeView(chargeId, charge) },
        detail: { boxId: box.id, resourceIds: box.resourceIds },
      };
    });
  }

  /** Replaces a personal box; resources it already had may stay even if no longer held. */
  update(requester: Requester, boxId: string, input: PersonalBoxInput): Promise<ActionOutcome<BoxAnswer>> {
    return runAction(this.deps.actions, requester, [locks.box(boxId)], async ({ chargeId, now }) => {
      const current = await this.personalOrThrow(requester.user, boxId);
      await this.checkHeld(requester.user, input.resourceIds, current.resourceIds, now);
      const box: Box = { ...current, ...personalFields(input), updatedAt: now.toISOString() };
      const charge = freeEvent(box.resourceIds);
      return {
        kind: 'box-update',
        charge,
        command: { type: 'writes', args: [writes.replace('boxes', box)] },
        answer: { box, charge: chargeView(chargeId, charge) },
        detail: { boxId, resourceIds: box.resourceIds },
      };
    });
  }

  /** Deletes a personal box no rule and no default presents (409 otherwise). */
  remove(requester: Requester, boxId: string): Promise<ActionOutcome<null>> {
    const { actions, users } = this.deps;
    return runAction(actions, requester, [locks.box(boxId), locks.preferences], async () => {
      const box = await this.personalOrThrow(requester.user, boxId);
      const preferences = await users.preferences(requester.user);
      const usedBy = targetsOf(preferences).find(({ target }) => 'boxId' in target && target.boxId === boxId);
      if (usedBy) throw new CmrError('conflict', `box ${boxId} is presented by ${usedBy.where}; change that first`);
      return {
        kind: 'box-delete',
        charge: freeEvent(box.resourceIds),
        command: { type: 'writes', args: [writes.remove('boxes', boxId)] },
        answer: null,
        detail: { boxId },
      };
    });
  }

  /**
   * Subscribes to a catalog box for its price: one entry per available resource of the box, linked
   * to it and valid for the box's validity. 409 while an entry linked to the box is active.
   */
  subscribe(requester: Requester, boxId: string): Promise<ActionOutcome<BoxSubscriptionAnswer>> {
    const { actions, catalog, catalogBoxes, users, index } = this.deps;
    const uid = requester.user;
    return runAction(actions, requester, [locks.box(boxId)], async ({ chargeId, now }) => {
      const box = await catalogBoxes.get(boxId);
      const library = await users.library(uid).all();
      if (library.some((entry) => entry.boxId === boxId && isActiveEntry(entry, now))) {
        throw new CmrError('conflict', `box ${boxId} is subscribed already`);
      }
      const resources = await catalog.getMany(box.resourceIds);
      const available = [...new Set(box.resourceIds)].map((id) => resources.get(id)).filter((r): r is Resource => r?.status === 'available');
      if (available.length === 0) throw new CmrError('conflict', `box ${boxId} has no available resource`);
      const entries = available.map((resource, i) =>
        newEntry({ id: `le-${idSuffix(chargeId)}-${i}`, resource, origin: 'box', boxId, now, chargeId, validityDays: box.validityDays }),
      );
      await index.track(uid, ...entries);
      const charge: ChargeSpec = { amount: box.price ?? 0, currency: box.currency ?? NO_CURRENCY, resourceIds: entries.map((e) => e.resourceId) };
      return {
        kind: 'box-subscribe',
        charge,
        command: { type: 'library.add', args: { entries } },
        answer: { boxId, entries, charge: chargeView(chargeId, charge) },
        detail: { boxId, resourceIds: charge.resourceIds, entryIds: entries.map((e) => e.id) },
      };
    });
  }

  private async personalOrThrow(uid: Identity, boxId: string): Promise<Box> {
    const box = await this.deps.users.boxes(uid).get(boxId);
    if (!box) throw new CmrError('not-found', `no personal box ${boxId}`);
    return box;
  }

  /** Every resource must be held actively, unless it is one the box already had. */
  private async checkHeld(uid: Identity, resourceIds: readonly string[], already: readonly string[], now: Date): Promise<void> {
    const library = await this.deps.users.library(uid).all();
    const missing = resourceIds.filter((id) => !already.includes(id) && !holdsActively(library, id, now));
    if (missing.length > 0) throw new CmrError('validation-failed', `resourceIds: not held actively: ${missing.join(', ')}`);
  }
}

function personalFields(input: PersonalBoxInput): PersonalBoxInput {
  return { name: input.name, resourceIds: input.resourceIds, mode: input.mode };
}
