/**
 * Data for copy tests, written through the stores and the call service as the management API and
 * the SIP fronts would: a catalog with copyable and non-copyable resources, registered clients,
 * users, and calls set up through `callStarted` so the presenting session is the real one.
 */
import type { InfoMessage } from '../../src/copy/sip-copy-port.js';
import { COPY_CONTENT_TYPE } from '../../src/copy/info-classifier.js';
import type { Identity } from '../../src/domain/identity.js';
import type { LibraryEntry, PresentingSession, Privacy } from '../../src/domain/types.js';
import type { Services } from '../../src/wiring.js';
import { entry, resource, seedCatalog, seedUser } from './presentation-fixtures.js';

const eur = { subscribe: 199, renew: 149, copy: 99, gift: 199, currency: 'EUR' };

/** r-song and r-tune copy for 99 and 50 EUR; r-locked may not be copied; r-dollar is priced in USD. */
export async function seedCopyCatalog(services: Services): Promise<void> {
  await seedCatalog(services, [
    resource('r-song', { validityDays: 30 }),
    resource('r-tune', { validityDays: 10, prices: { ...eur, copy: 50 } }),
    resource('r-locked', { copyable: false }),
    resource('r-dollar', { prices: { ...eur, currency: 'USD' } }),
  ]);
  await services.clients.create({ id: 'acme-handset', name: 'ACME handset', enabled: true, minVersion: '2.0.0' });
  await services.clients.create({ id: 'retired-app', name: 'Retired app', enabled: false, minVersion: '1.0.0' });
}

export const HANDSET = { id: 'acme-handset', version: '2.1.0' };

let users = 0;
/** A new user for each test, so tests never share data. */
export function newUser(): Identity {
  users += 1;
  return `tel:+1555${String(process.pid % 1000).padStart(3, '0')}${String(users).padStart(4, '0')}` as Identity;
}

/** Gives `owner` an active entry for each resource, and presents the first to every caller by default. */
export async function owning(services: Services, owner: Identity, resourceIds: string[]): Promise<void> {
  await seedUser(services, owner, { preferences: { default: { resourceId: resourceIds[0]! } }, library: resourceIds.map((id) => entry(id)) });
}

export async function setPrivacy(services: Services, uid: Identity, privacy: Partial<Privacy>): Promise<void> {
  const preferences = await services.users.preferences(uid);
  await services.users.putPreferences(uid, { ...preferences, privacy: { ...preferences.privacy, ...privacy } });
}

let calls = 0;
/**
 * A call from `caller` to `called` set up through the real call service: each party presents to
 * the other what its preferences and library give (see `owning`).
 */
export async function startCall(services: Services, caller: Identity, called: Identity): Promise<PresentingSession> {
  calls += 1;
  const start = { callId: `copy-${calls}-${Date.now()}@192.0.2.10`, fromTag: `ft-${calls}`, caller, called };
  await services.calls.callStarted(start);
  const session = await services.calls.getCall(start.callId);
  if (!session) throw new Error('the call was not recorded');
  return session;
}

const cseqs = new Map<string, number>();
/** A cmr-copy INFO in the call's dialog from `requestor` (the caller unless said), each with its next CSeq. */
export function copyInfo(session: PresentingSession, overrides: Partial<InfoMessage> & { json?: Record<string, unknown> } = {}): InfoMessage {
  const { json, ...rest } = overrides;
  const cseq = (cseqs.get(session.callId) ?? 1) + 1;
  cseqs.set(session.callId, cseq);
  return {
    callId: session.callId,
    dialogFromTag: session.fromTag,
    fromTag: session.fromTag,
    cseq,
    requestor: session.caller,
    infoPackage: 'cmr-copy',
    contentType: COPY_CONTENT_TYPE,
    body: JSON.stringify({ caller: session.caller, called: session.called, client: HANDSET, ...json }),
    source: '192.0.2.10:5060',
    ...rest,
  };
}

/** A DTMF key press (`application/dtmf-relay`) in the call's dialog. */
export function dtmfInfo(session: PresentingSession, key: string, overrides: Partial<InfoMessage> = {}): InfoMessage {
  return copyInfo(session, { infoPackage: null, contentType: 'application/dtmf-relay', body: `Signal=${key}\r\nDuration=160\r\n`, ...overrides });
}

/** The user's library entries, oldest first. */
export async function libraryOf(services: Services, uid: Identity): Promise<LibraryEntry[]> {
  return (await services.users.library(uid).all()).sort((a, b) => a.acquiredAt.localeCompare(b.acquiredAt) || a.id.localeCompare(b.id));
}
