/**
 * A user's library and subscriptions: subscribe to a catalog resource, renew, toggle auto-renewal,
 * cancel, and the sweeper's expiry. Each change runs as a charged action holding the lock of the
 * item its check depends on (the resource for a subscription, the entry otherwise), so parallel
 * requests of one user are checked one after the other against fresh data.
 */
import type { ActionOutcome, ChargedActions, ChargeSpec } from '../charging/charged-actions.js';
import type { CatalogService } from '../catalog/catalog-service.js';
import { CmrError } from '../domain/errors.js';
import type { Identity } from '../domain/identity.js';
import type { EntryStatus, LibraryEntry, Resource } from '../domain/types.js';
import type { UserStore } from '../store/user-store.js';
import type { ExpiryIndex } from './expiry-index.js';
import { daysAfter, effectiveStatus, holdsActively, libraryView, newEntry } from './library-entries.js';
import { chargeView, freeEvent, idSuffix, locks, runAction, type ChargeView, type Requester } from './management-action.js';

export interface EntryAnswer {
  entry: LibraryEntry;
  charge: ChargeView | null;
}

export interface LibraryDeps {
  actions: ChargedActions;
  catalog: CatalogService;
  users: UserStore;
  index: ExpiryIndex;
  now: () => Date;
}

/** Checks the sweeper makes, inside the action, that the entry is still the one it found due. */
export type EntryGuard = (entry: LibraryEntry, now: Date) => void;

export class LibraryService {
  constructor(private readonly deps: LibraryDeps) {}

  async list(uid: Identity, status?: EntryStatus): Promise<LibraryEntry[]> {
    return libraryView(await this.deps.users.library(uid).all(), this.deps.now(), status);
  }

  subscribe(requester: Requester, input: { resourceId: string; autoRenew?: boolean }): Promise<ActionOutcome<EntryAnswer>> {
    const { actions, catalog, users, index } = this.deps;
    const uid = requester.user;
    return runAction(actions, requester, [locks.resource(input.resourceId)], async ({ chargeId, now }) => {
      const resource = availableOrThrow(await catalog.get(input.resourceId));
      if (holdsActively(await users.library(uid).all(), resource.id, now)) {
        throw new CmrError('conflict', `an active library entry for ${resource.id} exists already`);
      }
      const entry = newEntry({ id: `le-${idSuffix(chargeId)}`, resource, origin: 'subscription', now, chargeId, autoRenew: input.autoRenew ?? false });
      await index.track(uid, entry);
      const charge: ChargeSpec = { amount: resource.prices.subscribe, currency: resource.prices.currency, resourceIds: [resource.id] };
      return {
        kind: 'subscribe',
        charge,
        command: { type: 'library.add', args: { entries: [entry] } },
        answer: { entry, charge: chargeView(chargeId, charge) },
        detail: { resourceIds: [resource.id], entryIds: [entry.id] },
      };
    });
  }

  setAutoRenew(requester: Requester, entryId: string, autoRenew: boolean): Promise<ActionOutcome<EntryAnswer>> {
    const { actions, index } = this.deps;
    return runAction<EntryAnswer>(actions, requester, [locks.entry(entryId)], async ({ chargeId, now }) => {
      const entry = await this.entryOrThrow(requester.user, entryId);
      if (entry.autoRenew === autoRenew) {
        return { kind: 'update-entry', charge: null, answer: { entry, charge: null }, detail: { entryIds: [entryId], autoRenew, changed: false } };
      }
      if (autoRenew) renewableOrThrow(entry, now);
      const updated: LibraryEntry = { ...entry, autoRenew };
      if (autoRenew) await index.track(requester.user, updated);
      const charge = freeEvent([entry.resourceId]);
      return {
        kind: 'update-entry',
        charge,
        command: { type: 'library.update', args: { entryId, set: { autoRenew } } },
        answer: { entry: updated, charge: chargeView(chargeId, charge) },
        detail: { entryIds: [entryId], resourceIds: [entry.resourceId], autoRenew },
      };
    });
  }

  /** Cancels an entry: it is never presented, copied or renewed again. Cancelling twice changes nothing. */
  cancel(requester: Requester, entryId: string): Promise<ActionOutcome<null>> {
    return runAction<null>(this.deps.actions, requester, [locks.entry(entryId)], async () => {
      const entry = await this.entryOrThrow(requester.user, entryId);
      if (entry.status === 'cancelled') return { kind: 'cancel', charge: null, answer: null, detail: { entryIds: [entryId], changed: false } };
      return {
        kind: 'cancel',
        charge: freeEvent([entry.resourceId]),
        command: { type: 'library.update', args: { entryId, set: { status: 'cancelled', autoRenew: false } } },
        answer: null,
        detail: { entryIds: [entryId], resourceIds: [entry.resourceId] },
      };
    });
  }

  /**
   * Renews an entry for the resource's `renew` price: it runs `validityDays` from the later of now
   * and its current expiry. Not for cancelled entries, box entries or withdrawn resources.
   */
  renew(requester: Requester, entryId: string, guard?: EntryGuard): Promise<ActionOutcome<EntryAnswer>> {
    const { actions, catalog, index } = this.deps;
    return runAction(actions, requester, [locks.entry(entryId)], async ({ chargeId, now }) => {
      const entry = await this.entryOrThrow(requester.user, entryId);
      guard?.(entry, now);
      renewableOrThrow(entry, now, { expired: true });
      const resource = availableOrThrow(await catalog.get(entry.resourceId));
      const from = new Date(Math.max(now.getTime(), Date.parse(entry.expiresAt)));
      const set = { status: 'active' as const, expiresAt: daysAfter(from, resource.validityDays), chargeId };
      const renewed: LibraryEntry = { ...entry, ...set };
      await index.track(requester.user, renewed);
      const charge: ChargeSpec = { amount: resource.prices.renew, currency: resource.prices.currency, resourceIds: [resource.id] };
      return {
        kind: 'renew',
        charge,
        command: { type: 'library.update', args: { entryId, set } },
        answer: { entry: renewed, charge: chargeView(chargeId, charge) },
        detail: { entryIds: [entryId], resourceIds: [resource.id], expiresAt: set.expiresAt },
      };
    });
  }

  /** Ends an active entry (the sweeper's expiry, or after a refused renewal); `guard` says whether it is due. */
  expire(requester: Requester, entryId: string, guard: EntryGuard): Promise<ActionOutcome<null>> {
    return runAction(this.deps.actions, requester, [locks.entry(entryId)], async ({ now }) => {
      const entry = await this.entryOrThrow(requester.user, entryId);
      if (entry.status !== 'active') throw new CmrError('conflict', `entry ${entryId} is ${entry.status}`);
      guard(entry, now);
      return {
        kind: 'expire',
        charge: freeEvent([entry.resourceId]),
        command: { type: 'library.update', args: { entryId, set: { status: 'expired' } } },
        answer: null,
        detail: { entryIds: [entryId], resourceIds: [entry.resourceId], expiresAt: entry.expiresAt },
      };
    });
  }

  private async entryOrThrow(uid: Identity, entryId: string): Promise<LibraryEntry> {
    const entry = await this.deps.users.library(uid).get(entryId);
    if (!entry) throw new CmrError('not-found', `no library entry ${entryId}`);
    return entry;
  }
}

export function availableOrThrow(resource: Resource): Resource {
  if (resource.status !== 'available') throw new CmrError('conflict', `resource ${resource.id} is withdrawn`);
  return resource;
}

/** Whether an entry may be renewed (or set to renew itself): not cancelled, not part of a box. */
function renewableOrThrow(entry: LibraryEntry, now: Date, options: { expired?: boolean } = {}): void {
  if (entry.status === 'cancelled') throw new CmrError('conflict', `entry ${entry.id} is cancelled`);
  if (entry.origin === 'box') throw new CmrError('conflict', `entry ${entry.id} belongs to box ${entry.boxId ?? ''}: subscribe to the box again instead`);
  if (!options.expired && effectiveStatus(entry, now) === 'expired') throw new CmrError('conflict', `entry ${entry.id} is expired: renew it instead`);
}
