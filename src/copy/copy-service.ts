/**
 * The copy service: the one implementation of a copy (contract §3.2 and §4; steps 1–7 of the
 * online copy flow), run alike for an online copy asked by SIP INFO or over REST and for an
 * offline copy over REST.
 *
 * 1. Find the call (online): by the INFO's dialog (Call-ID and the caller's From tag), or the
 *    requestor's live or grace-period call with `peer`. None → 404.
 * 2. Validate the client (registered, enabled, version ≥ its minimum; DTMF is built in, see
 *    `DTMF_CLIENT_ID`) and the requestor (the caller or the called party of that call, and the
 *    parties the body names are the call's). → 403.
 * 3. The owner is the other party; what may be copied is what the call presents to the requestor
 *    (nothing → 404; an id outside it → 404). Offline: the owner's active library entries (an id
 *    the owner does not hold → 404). The owner's privacy (`blocked`, `copy` audience → 403) and
 *    each resource (in the catalog, available, copyable → 403) are checked. A copy is all or
 *    nothing: one refused resource refuses the request.
 * 4. What the requestor already holds actively is skipped; everything held → `already-owned`,
 *    nothing charged.
 * 5–7. Charged actions charge the summed `copy` price (calling and called party in the event),
 *    then apply the new entries, the charge and activity records and the idempotency answer in
 *    one script, and relay the activity to the portal.
 *
 * Idempotency: a request with a key (SIP dialog+CSeq, REST `Idempotency-Key`) gets the first
 * answer on every repeat, also while the first is in flight. Two different requests for the same
 * resource of one requestor are serialised by a per-requestor lock on each resource (see
 * `locks.resource`, shared with subscriptions), and the second then finds the resource held: never two entries or two charges.
 */
import type { ActionOutcome, ActionPlan, Actor, ChargedActions, ChargeSpec } from '../charging/charged-actions.js';
import { CmrError } from '../domain/errors.js';
import type { Identity } from '../domain/identity.js';
import type { Channel, CmrClient, LibraryEntry, Privacy, Resource } from '../domain/types.js';
import type { CatalogService, ClientRegistry } from '../catalog/catalog-service.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { CallService } from '../presentation/call-service.js';
import type { StoredSession } from '../presentation/session-store.js';
import type { UserStore } from '../store/user-store.js';
import type { CopyResult } from './copy-outcomes.js';
import { activeHoldings, checkClient, checkCopyable, checkPrivacy, copiedEntries, copyPrice, entryView } from './copy-policy.js';
import type { ClientInfo } from './copy-request.js';
import type { ExpiryIndex } from '../management/expiry-index.js';
import { locks } from '../management/management-action.js';
import type { ActivityRecorder } from '../activity/activity-recorder.js';

/** Where an online copy's call is found. */
export type CallRef =
  /** SIP: the dialog of the INFO (the caller's From tag, when the front knows it). */
  | { callId: string; dialogFromTag: string | null }
  /** REST: the requestor's live or grace-period call with `peer`. */
  | { peer: Identity };

interface CopyRequestBase {
  channel: Channel;
  /** Who copies and pays. */
  requestor: Identity;
  /** Who asked: the requestor, or the SP acting for the requestor. */
  actor: Actor;
  /** SIP dialog+CSeq or REST `Idempotency-Key`, with a fingerprint of the request's content. */
  idempotency?: { key: string; fingerprint: string };
}

export interface OnlineCopy extends CopyRequestBase {
  mode: 'online';
  call: CallRef;
  client: ClientInfo;
  /** The call's parties as the request body names them (SIP JSON body), checked against the call. */
  parties: { caller: Identity; called: Identity } | null;
  /** Subset of what is presented to the requestor; null = everything presented. */
  resourceIds: string[] | null;
}

export interface OfflineCopy extends CopyRequestBase {
  mode: 'offline';
  /** The owner, from whose active library entries the resources are copied. */
  from: Identity;
  resourceIds: string[];
}

export type CopyRequest = OnlineCopy | OfflineCopy;

export interface CopyServiceParts {
  calls: Pick<CallService, 'storedCall' | 'storedCallBetween'>;
  catalog: CatalogService;
  clients: ClientRegistry;
  users: UserStore;
  chargedActions: ChargedActions;
  /** Refused copies are recorded too, so the portal sees attempts privacy or licences stopped. */
  activities: Pick<ActivityRecorder, 'note'>;
  /** The sweeper's index: new entries are tracked before they are written, so they expire on time. */
  expiryIndex: Pick<ExpiryIndex, 'track'>;
  metrics: Metrics;
  logger: Logger;
}

/** What one side of a call copies: the other party's resources presented to it. */
interface CallSide {
  owner: Identity;
  presented: string[];
}

/** What is checked and charged alike for online and offline copies. */
interface CopySpec {
  kind: 'copy-online' | 'copy-offline';
  requestor: Identity;
  owner: Identity;
  resourceIds: string[];
  call: { calling: Identity; called: Identity; callId: string } | null;
  detail: Record<string, unknown>;
}

/** What a copy is checked against (see `read`). */
interface CopyData {
  /** The registered client (online copies); null when not registered or not asked. */
  client: CmrClient | null;
  /** The owner's. */
  privacy: Privacy;
  ownerLibrary: LibraryEntry[];
  requestorLibrary: LibraryEntry[];
  resources: Map<string, Resource>;
}

export class CopyService {
  constructor(private readonly parts: CopyServiceParts) {}

  /**
   * Runs one copy; throws `CmrError` (see `copy-outcomes.ts` for what each channel answers).
   * `replayed` says the answer is the stored one of an earlier request with the same key.
   */
  async copy(request: CopyRequest): Promise<ActionOutcome<CopyResult>> {
    const line: Record<string, unknown> = { event: 'copy', mode: request.mode, channel: request.channel, requestor: request.requestor };
    if (request.mode === 'online' && 'callId' in request.call) line['callId'] = request.call.callId;
    try {
      const outcome = request.mode === 'online' ? await this.online(request, line) : await this.offline(request);
      const { answer, replayed } = outcome;
      // A replay did nothing new: counted apart, so copies are counted once.
      this.parts.metrics.copies.inc({ channel: request.channel, result: replayed ? 'replayed' : answer.result });
      this.parts.logger.info({ ...line, result: answer.result, replayed, chargeId: answer.charge?.id ?? null, resourceIds: answer.entries.map((e) => e.resourceId) }, 'copy answered');
      return outcome;
    } catch (err) {
      const code = err instanceof CmrError ? err.code : 'internal';
      this.parts.metrics.copies.inc({ channel: request.channel, result: code });
      const failure = { ...line, result: code, reason: err instanceof Error ? err.message : String(err) };
      if (err instanceof CmrError && err.status < 500) this.parts.logger.info(failure, 'copy refused');
      else this.parts.logger.warn(failure, 'copy failed');
      if (err instanceof CmrError && (err.status === 403 || err.status === 404)) await this.recordRefusal(request, err, line['callId']);
      throw err;
    }
  }

  /** A well-formed request refused (not a party, privacy, licence, nothing presented): recorded as denied. */
  private recordRefusal(request: CopyRequest, refusal: CmrError, callId: unknown): Promise<void> {
    return this.parts.activities.note({
      actor: request.actor,
      subject: request.requestor,
      kind: request.mode === 'online' ? 'copy-online' : 'copy-offline',
      channel: request.channel,
      result: 'denied',
      detail: { code: refusal.code, reason: refusal.detail, ...(typeof callId === 'string' ? { callId } : {}) },
    });
  }

  // ── online ───────────────────────────────────────────────────────────────

  private async online(request: OnlineCopy, line: Record<string, unknown>): Promise<ActionOutcome<CopyResult>> {
    if ('peer' in request.call && request.call.peer === request.requestor) {
      throw new CmrError('bad-request', 'peer must be the other party of the call, not the requestor');
    }
    const call = await this.findCall(request.call, request.requestor);
    if (call) line['callId'] = call.callId;
    // Locks are named before the request is checked: the ids asked, else everything presented.
    const lockIds = request.resourceIds ?? (call ? (sideOf(call, request.requestor)?.presented ?? []) : []);
    return this.parts.chargedActions.run<CopyResult>({
      user: request.requestor,
      actor: request.actor,
      channel: request.channel,
      ...(request.idempotency ? { idempotency: request.idempotency } : {}),
      exclusive: lockIds.map(locks.resource),
      prepare: async ({ chargeId, now }) => {
        const { spec, data } = await this.checkOnline(request, call);
        return this.plan(spec, data, chargeId, now);
      },
    });
  }

  private findCall(call: CallRef, requestor: Identity): Promise<StoredSession | null> {
    return 'peer' in call ? this.parts.calls.storedCallBetween(requestor, call.peer) : this.parts.calls.storedCall(call.callId, call.dialogFromTag ?? undefined);
  }

  /** Steps 1–3 of an online copy up to the owner's data: the call, the client, the requestor, what is presented. */
  private async checkOnline(request: OnlineCopy, call: StoredSession | null): Promise<{ spec: CopySpec; data: CopyData }> {
    if (!call) {
      throw new CmrError('not-found', 'peer' in request.call ? `no live or recent call with ${request.call.peer}` : 'no live or recent call for this dialog');
    }
    // A copy request in the call's signalling is one of its dialog: once the call is over (BYE,
    // CANCEL, failure) there is no dialog left to send it in (RFC 3261 §12.2.2). The grace period
    // is for copies through the REST API, which name the peer instead.
    if (!('peer' in request.call) && call.state === 'ended') {
      throw new CmrError('dialog-gone', 'the call is over: a copy request must be sent within the call');
    }
    const side = sideOf(call, request.requestor);
    if (!side) {
      // The client is checked first, whoever asks.
      checkClient(request.client, await this.parts.clients.find(request.client.id));
      throw new CmrError('forbidden', 'the requestor is neither the caller nor the called party of this call');
    }
    const data = await this.read({ requestor: request.requestor, owner: side.owner, resourceIds: side.presented, clientId: request.client.id });
    checkClient(request.client, data.client);
    const parties = request.parties;
    if (parties && (parties.caller !== call.caller || parties.called !== call.called)) {
      throw new CmrError('forbidden', 'the caller and called party in the request are not those of this call');
    }
    // What the call presents that the catalog still knows (as the call's lookup shows it).
    const presented = side.presented.filter((id) => data.resources.has(id));
    if (presented.length === 0) throw new CmrError('not-found', 'nothing is presented to the requestor in this call');
    const resourceIds = request.resourceIds ?? presented;
    const outside = resourceIds.find((id) => !presented.includes(id));
    if (outside !== undefined) throw new CmrError('not-found', `resource ${outside} is not presented to the requestor in this call`);
    const spec: CopySpec = {
      kind: 'copy-online',
      requestor: request.requestor,
      owner: side.owner,
      resourceIds,
      call: { calling: call.caller, called: call.called, callId: call.callId },
      detail: { callId: call.callId, client: request.client.id },
    };
    return { spec, data };
  }

  // ── offline ──────────────────────────────────────────────────────────────

  private async offline(request: OfflineCopy): Promise<ActionOutcome<CopyResult>> {
    if (request.from === request.requestor) throw new CmrError('bad-request', 'from must be another user');
    const resourceIds = [...new Set(request.resourceIds)];
    const spec: CopySpec = { kind: 'copy-offline', requestor: request.requestor, owner: request.from, resourceIds, call: null, detail: {} };
    return this.parts.chargedActions.run<CopyResult>({
      user: request.requestor,
      actor: request.actor,
      channel: request.channel,
      ...(request.idempotency ? { idempotency: request.idempotency } : {}),
      exclusive: resourceIds.map(locks.resource),
      prepare: async ({ chargeId, now }) => this.plan(spec, await this.read({ requestor: request.requestor, owner: request.from, resourceIds, clientId: null }), chargeId, now),
    });
  }

  // ── both ─────────────────────────────────────────────────────────────────

  /**
   * Everything a copy is checked against, read under the resource locks at once (one round trip):
   * none of it depends on the rest.
   */
  private async read(what: { requestor: Identity; owner: Identity; resourceIds: string[]; clientId: string | null }): Promise<CopyData> {
    const { users, catalog, clients } = this.parts;
    const [client, preferences, ownerLibrary, requestorLibrary, resources] = await Promise.all([
      what.clientId === null ? null : clients.find(what.clientId),
      users.preferences(what.owner),
      users.library(what.owner).all(),
      users.library(what.requestor).all(),
      catalog.getMany(what.resourceIds),
    ]);
    return { client, privacy: preferences.privacy, ownerLibrary, requestorLibrary, resources };
  }

  /** Steps 3–6 under the resource locks: privacy, the owner's holdings, the catalog, the requestor's holdings, the charge and the entries. */
  private plan(spec: CopySpec, data: CopyData, chargeId: string, now: Date): ActionPlan<CopyResult> {
    checkPrivacy(data.privacy, spec.requestor);
    const ownerHolds = activeHoldings(data.ownerLibrary, now);
    for (const id of spec.resourceIds) {
      if (!ownerHolds.has(id)) throw new CmrError('not-found', `${spec.owner} holds no active entry for resource ${id}`);
    }
    const asked = spec.resourceIds.map((id) => checkCopyable(id, data.resources.get(id)));
    const held = activeHoldings(data.requestorLibrary, now);
    const toCopy = asked.filter((r) => !held.has(r.id));
    const detail = { ...spec.detail, from: spec.owner, alreadyHeld: asked.filter((r) => held.has(r.id)).map((r) => r.id) };

    if (toCopy.length === 0) {
      return {
        kind: spec.kind,
        charge: null,
        answer: { result: 'already-owned', entries: asked.map((r) => entryView(held.get(r.id)!)), charge: null },
        detail: { ...detail, resourceIds: [], result: 'already-owned' },
      };
    }
    const price = copyPrice(toCopy);
    const entries = copiedEntries(toCopy, { origin: spec.kind, from: spec.owner, chargeId, now });
    const charge: ChargeSpec = { ...price, resourceIds: toCopy.map((r) => r.id), ...(spec.call ?? {}) };
    return {
      kind: spec.kind,
      charge,
      command: { type: 'library.add', args: { entries } },
      // The sweeper's index learns of the entries before they are written.
      announce: () => this.parts.expiryIndex.track(spec.requestor, ...entries),
      answer: { result: 'copied', entries: entries.map(entryView), charge: { id: chargeId, ...price } },
      detail: { ...detail, resourceIds: charge.resourceIds, entryIds: entries.map((e) => e.id), result: 'copied' },
    };
  }
}

/** The requestor's side of the call: the other party and what it presents to the requestor; null when not a party. */
function sideOf(call: StoredSession, requestor: Identity): CallSide | null {
  if (requestor === call.caller) return { owner: call.called, presented: call.toCaller };
  if (requestor === call.called) return { owner: call.caller, presented: call.toCalled };
  return null;
}
