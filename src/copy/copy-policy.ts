/**
 * The decisions of a copy, as pure functions over data already read: may this client copy, does
 * the owner's privacy let this requestor copy, may each resource be copied, what is charged, and
 * what enters the requestor's library. Each refusal is a `CmrError` whose detail is the reason a
 * handset shows (SIP Warning) or a client reads (problem JSON).
 */
import semver from 'semver';
import { CmrError } from '../domain/errors.js';
import type { Identity } from '../domain/identity.js';
import type { CmrClient, LibraryEntry, Privacy, Resource } from '../domain/types.js';
import { audienceAdmits } from '../domain/privacy.js';
import { newEntry } from '../management/library-entries.js';
import { isActiveEntry } from '../presentation/select.js';
import type { CopiedEntry } from './copy-outcomes.js';
import type { ClientInfo } from './copy-request.js';

/**
 * Client id of copies asked by a DTMF key press (contract §3.2), which name no client and no
 * version. It is built in: accepted without registration. Registering a client with this id lets
 * the SP switch DTMF copying off (`enabled: false`); its `minVersion` has nothing to compare to.
 */
export const DTMF_CLIENT_ID = 'dtmf';

/** The DTMF client as a copy request names it. */
export const DTMF_CLIENT: ClientInfo = { id: DTMF_CLIENT_ID, version: null };

/**
 * Throws unless the client may copy: registered, enabled, and its version (semver) not below the
 * registered minimum. A request without a version is a DTMF key press (see `DTMF_CLIENT_ID`).
 */
export function checkClient(asked: ClientInfo, registered: CmrClient | null): void {
  if (asked.version === null) {
    if (registered && !registered.enabled) throw new CmrError('forbidden', `client ${asked.id} is disabled`);
    return;
  }
  if (!registered) throw new CmrError('forbidden', `client ${asked.id} is not registered`);
  if (!registered.enabled) throw new CmrError('forbidden', `client ${asked.id} is disabled`);
  const version = semver.valid(asked.version, { loose: true });
  if (!version) throw new CmrError('bad-request', `client version "${asked.version}" is not a semantic version (e.g. 2.1.0)`);
  if (semver.lt(version, registered.minVersion)) {
    throw new CmrError('forbidden', `client ${asked.id} ${version} is below the minimum version ${registered.minVersion}`);
  }
}

/** Throws `privacy-forbids` unless the owner's privacy lets `requestor` copy: not blocked, and in the `copy` audience. */
export function checkPrivacy(privacy: Privacy, requestor: Identity): void {
  if (audienceAdmits(privacy, privacy.copy, requestor)) return;
  if (privacy.blocked.includes(requestor)) throw new CmrError('privacy-forbids', 'the owner does not let you copy');
  if (privacy.copy === 'nobody') throw new CmrError('privacy-forbids', 'the owner does not allow copying');
  throw new CmrError('privacy-forbids', "the owner allows copying by the owner's contacts only");
}

/** Throws unless the resource is in the catalog, available, and its licence allows copying. */
export function checkCopyable(id: string, resource: Resource | undefined): Resource {
  if (!resource) throw new CmrError('not-found', `resource ${id} is not in the catalog`);
  if (resource.status !== 'available') throw new CmrError('forbidden', `resource ${id} is withdrawn`);
  if (!resource.copyable) throw new CmrError('forbidden', `the licence of resource ${id} does not allow copying`);
  return resource;
}

/** The user's active entry for each resource held (the one lasting longest when several). */
export function activeHoldings(library: readonly LibraryEntry[], at: Date): Map<string, LibraryEntry> {
  const held = new Map<string, LibraryEntry>();
  for (const entry of library) {
    if (!isActiveEntry(entry, at)) continue;
    const other = held.get(entry.resourceId);
    if (!other || Date.parse(entry.expiresAt) > Date.parse(other.expiresAt)) held.set(entry.resourceId, entry);
  }
  return held;
}

/**
 * The `copy` price of the resources, summed. One charging event has one currency, so resources
 * priced in different currencies cannot be copied together: 409, copy them one at a time.
 */
export function copyPrice(resources: readonly Resource[]): { amount: number; currency: string } {
  const currencies = new Set(resources.map((r) => r.prices.currency));
  if (currencies.size > 1) {
    throw new CmrError('conflict', `the resources are priced in different currencies (${[...currencies].join(', ')}); copy them one at a time`);
  }
  return { amount: resources.reduce((sum, r) => sum + r.prices.copy, 0), currency: resources[0]!.prices.currency };
}

/** The library entries a copy creates: ids derived from the charge, so applying twice adds nothing twice. */
export function copiedEntries(
  resources: readonly Resource[],
  copy: { origin: 'copy-online' | 'copy-offline'; from: Identity; chargeId: string; now: Date },
): LibraryEntry[] {
  return resources.map((resource, i) =>
    newEntry({ id: `le-${copy.chargeId.replace(/^ch-/, '')}-${i + 1}`, resource, origin: copy.origin, from: copy.from, now: copy.now, chargeId: copy.chargeId }),
  );
}

export function entryView(entry: LibraryEntry): CopiedEntry {
  return { resourceId: entry.resourceId, libraryEntryId: entry.id, expiresAt: entry.expiresAt };
}
