/**
 * The call-time service both SIP fronts use (`CallEvents`), and the lookups of presenting
 * sessions for the copy layer and the REST API.
 *
 * `callStarted` reads both parties in one pipelined round trip and the catalog entries their
 * candidates name in a second, selects what each party presents to the other, and answers the
 * front. It fails open: if that takes longer than `CMR_SELECT_BUDGET_MS`, or Redis fails in any
 * way, the front gets the empty annotation at the budget at the latest and the call proceeds
 * unannotated; every outcome is counted in `cmr_selections_total`.
 *
 * The session is written after the answer, in the background, so a slow store never delays the
 * call; it records what the front was actually told (empty after a fail-open). The per-call queue
 * keeps the answered and ended updates behind that write, so they are never lost or reordered.
 */
import type { CallAnnotation, CallEndReason, CallEvents, CallStart } from '../calls/call-events.js';
import type { Identity } from '../domain/identity.js';
import type { PresentedResource, PresentingSession, Resource } from '../domain/types.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { CallQueue } from './call-queue.js';
import { catalogNeeds, selectPresentation, type CatalogView, type PresentationSource } from './select.js';
import type { PartySnapshot, SelectionReader } from './selection-reader.js';
import type { SessionStore, StoredSession } from './session-store.js';

export interface CallServiceOptions {
  /** Time allowed to answer `callStarted` (and the front's other calls) before failing open. */
  budgetMs: number;
  now: () => Date;
  /** Uniform in [0, 1): draws the item of random boxes. */
  random: () => number;
}

export interface CallServiceParts {
  reader: SelectionReader;
  sessions: SessionStore;
  metrics: Metrics;
  logger: Logger;
}

/** What a call from `caller` to `owner` at `at` would present to the caller. */
export interface PresentationPreview {
  owner: Identity;
  caller: Identity;
  at: string;
  timezone: string;
  presented: PresentedResource[];
  source: PresentationSource;
}

type SelectionResult = 'annotated' | 'empty' | 'fail-open-timeout' | 'fail-open-error';

export class CallService implements CallEvents {
  private readonly queue: CallQueue;

  constructor(
    private readonly parts: CallServiceParts,
    private readonly options: CallServiceOptions,
  ) {
    this.queue = new CallQueue((callId, err) =>
      parts.logger.warn({ event: 'call-session-write', callId, err: failureOf(err) }, 'presenting session not recorded'),
    );
  }

  async callStarted(start: CallStart): Promise<CallAnnotation> {
    const at = this.options.now();
    let answer: (annotation: CallAnnotation) => void = () => {};
    const answered = new Promise<CallAnnotation>((resolve) => (answer = resolve));
    // Queued before selecting, so events that arrive meanwhile wait for this session.
    void this.queue.enqueue(start.callId, async () => this.parts.sessions.create(storedSession(start, await answered, at)));

    const outcome = await withinBudget(this.selectForCall(start, at), this.options.budgetMs);
    const annotation = outcome.kind === 'done' ? outcome.value : { toCaller: [], toCalled: [] };
    answer(annotation);

    const result: SelectionResult =
      outcome.kind === 'timeout' ? 'fail-open-timeout' : outcome.kind === 'error' ? 'fail-open-error' : annotation.toCaller.length + annotation.toCalled.length > 0 ? 'annotated' : 'empty';
    this.parts.metrics.selections.inc({ result });
    const line = {
      event: 'call-started',
      callId: start.callId,
      caller: start.caller,
      called: start.called,
      result,
      toCaller: annotation.toCaller.map((r) => r.resourceId),
      toCalled: annotation.toCalled.map((r) => r.resourceId),
    };
    if (outcome.kind === 'error') this.parts.logger.warn({ ...line, err: failureOf(outcome.error) }, 'selection failed: call proceeds unannotated');
    else if (outcome.kind === 'timeout') this.parts.logger.warn({ ...line, budgetMs: this.options.budgetMs }, 'selection over budget: call proceeds unannotated');
    else this.parts.logger.info(line, 'call started');
    return annotation;
  }

  callAnswered(callId: string): Promise<void> {
    return this.transition(callId, 'confirmed');
  }

  callEnded(callId: string, reason: CallEndReason): Promise<void> {
    this.parts.logger.debug({ event: 'call-ended', callId, reason }, 'call ended');
    return this.transition(callId, 'ended');
  }

  /** The front's lookup: never throws, never waits past the budget; null when unknown or the store fails. */
  async findCall(callId: string, fromTag?: string): Promise<PresentingSession | null> {
    const outcome = await withinBudget(this.getCall(callId, fromTag), this.options.budgetMs);
    if (outcome.kind === 'done') return outcome.value;
    this.parts.logger.warn(
      { event: 'call-lookup', callId, ...(outcome.kind === 'error' ? { err: failureOf(outcome.error) } : { budgetMs: this.options.budgetMs }) },
      'presenting session lookup failed',
    );
    return null;
  }

  /**
   * The presenting session of a live or grace-period call; null when unknown, or when `fromTag`
   * is given and names another dialog. Rejects with `StoreUnavailableError` when Redis fails.
   */
  async getCall(callId: string, fromTag?: string): Promise<PresentingSession | null> {
    return this.withContentOf(await this.storedCall(callId, fromTag));
  }

  /**
   * The most recent call, live or in its grace period, between `requestor` and `peer` (either
   * side calling); null when none. Rejects with `StoreUnavailableError` when Redis fails.
   */
  async findLiveCallBetween(requestor: Identity, peer: Identity): Promise<PresentingSession | null> {
    return this.withContentOf(await this.storedCallBetween(requestor, peer));
  }

  /** `getCall` as stored: the resource ids presented, without their content (a copy reads the catalog itself). */
  async storedCall(callId: string, fromTag?: string): Promise<StoredSession | null> {
    await this.queue.settled(callId);
    const stored = await this.parts.sessions.get(callId);
    return !stored || (fromTag !== undefined && stored.fromTag !== fromTag) ? null : stored;
  }

  /** `findLiveCallBetween` as stored: the resource ids presented, without their content. */
  async storedCallBetween(requestor: Identity, peer: Identity): Promise<StoredSession | null> {
    const sessions = await this.parts.sessions.ofUser(requestor, this.options.now().getTime());
    return sessions.find((s) => (s.caller === requestor && s.called === peer) || (s.caller === peer && s.called === requestor)) ?? null;
  }

  /** The user's live calls (early or confirmed), most recent first, with what is presenting. */
  /** How many live calls present something now, on every instance (the SP's dashboard figure). */
  presentingNow(): Promise<number> {
    return this.parts.sessions.countPresenting(this.options.now().getTime());
  }

  async currentCalls(uid: Identity): Promise<PresentingSession[]> {
    const sessions = await this.parts.sessions.ofUser(uid, this.options.now().getTime());
    return this.withContent(sessions.filter((s) => s.state !== 'ended'));
  }

  /**
   * What a call from `caller` to `owner` at `at` (now when absent) would present to the caller, with the caller's
   * filters, as the next call would see it (sequential boxes at their next position; a random box
   * shows one possible draw). Changes nothing. Rejects with `StoreUnavailableError`.
   */
  async preview(owner: Identity, caller: Identity, at: Date = this.options.now()): Promise<PresentationPreview> {
    const [ownerData, callerData] = await this.parts.reader.parties([owner, caller] as const, 'peek');
    const catalog = await this.parts.reader.catalog([catalogNeeds(ownerData, caller, at)]);
    const { presented, source } = this.present(ownerData, callerData, catalog, at);
    return { owner, caller, at: at.toISOString(), timezone: ownerData.preferences.timezone, presented, source };
  }

  /** Resolves when every pending session write has been applied (shutdown, tests). */
  drain(): Promise<void> {
    return this.queue.drain();
  }

  private async selectForCall(start: CallStart, at: Date): Promise<CallAnnotation> {
    const { parties, catalog } = await this.parts.reader.forCall([start.called, start.caller], ([called, caller]) => [
      catalogNeeds(called!, start.caller, at),
      catalogNeeds(caller!, start.called, at),
    ]);
    const [called, caller] = parties as [PartySnapshot, PartySnapshot];
    return {
      toCaller: this.present(called, caller, catalog, at).presented,
      toCalled: this.present(caller, called, catalog, at).presented,
    };
  }

  private present(owner: PartySnapshot, viewer: PartySnapshot, catalog: CatalogView, at: Date) {
    return selectPresentation({
      owner,
      viewer: { identity: viewer.identity, filters: viewer.preferences.filters },
      catalog,
      at,
      rotation: owner.rotation,
      random: this.options.random,
    });
  }

  /** Queues a state change stamped now; waits for it at most the budget, never throws. */
  private async transition(callId: string, state: 'confirmed' | 'ended'): Promise<void> {
    const at = this.options.now().getTime();
    const applied = this.queue.enqueue(callId, async () => {
      const moved = await this.parts.sessions.transition(callId, state, at);
      this.parts.logger.debug({ event: 'call-session', callId, state, moved }, 'presenting session updated');
    });
    await withinBudget(applied, this.options.budgetMs);
  }

  /** Sessions with the content URIs of what they present, read from the catalog in one round trip. */
  private async withContentOf(session: StoredSession | null): Promise<PresentingSession | null> {
    if (!session) return null;
    const [presenting] = await this.withContent([session]);
    return presenting ?? null;
  }

  private async withContent(sessions: StoredSession[]): Promise<PresentingSession[]> {
    if (sessions.length === 0) return [];
    const { resources } = await this.parts.reader.catalog([{ resourceIds: sessions.flatMap((s) => [...s.toCaller, ...s.toCalled]), boxIds: [] }]);
    return sessions.map((s) => presentingSession(s, resources));
  }
}

function storedSession(start: CallStart, annotation: CallAnnotation, at: Date): StoredSession {
  return {
    callId: start.callId,
    fromTag: start.fromTag,
    caller: start.caller,
    called: start.called,
    toCaller: annotation.toCaller.map((r) => r.resourceId),
    toCalled: annotation.toCalled.map((r) => r.resourceId),
    state: 'early',
    startedAt: at.getTime(),
  };
}

/** A stored session as the domain shows it; a resource no longer in the catalog is left out. */
function presentingSession(s: StoredSession, resources: ReadonlyMap<string, Resource>): PresentingSession {
  const presented = (ids: string[]): PresentedResource[] =>
    ids.flatMap((id) => {
      const resource = resources.get(id);
      return resource ? [{ resourceId: id, contentUri: resource.contentUri }] : [];
    });
  const iso = (at: number) => new Date(at).toISOString();
  return {
    callId: s.callId,
    fromTag: s.fromTag,
    caller: s.caller,
    called: s.called,
    toCaller: presented(s.toCaller),
    toCalled: presented(s.toCalled),
    state: s.state,
    startedAt: iso(s.startedAt),
    ...(s.answeredAt !== undefined ? { answeredAt: iso(s.answeredAt) } : {}),
    ...(s.endedAt !== undefined ? { endedAt: iso(s.endedAt) } : {}),
  };
}

/** What went wrong, for a log line: the error's message and its cause's (a store failure says which). */
function failureOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  return err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message;
}

type Outcome<T> = { kind: 'done'; value: T } | { kind: 'timeout' } | { kind: 'error'; error: unknown };

/** Settles with the work's result, or with `timeout` once `ms` have passed; the work runs on. */
function withinBudget<T>(work: Promise<T>, ms: number): Promise<Outcome<T>> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ kind: 'timeout' }), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve({ kind: 'done', value });
      },
      (error: unknown) => {
        clearTimeout(timer);
        resolve({ kind: 'error', error });
      },
    );
  });
}
