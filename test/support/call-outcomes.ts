/**
 * Calls through a SIP front against the real core: two fresh subscribers who present a tone to
 * each other (seeded through the stores, as the management API would), and what a call left
 * behind, read as the REST API shows it (the presenting session, charges, activities) and from
 * the library store.
 */
import { expect } from 'vitest';
import type { Identity } from '../../src/domain/identity.js';
import type { ActivityRecord, ChargeRecord, LibraryEntry, PresentingSession } from '../../src/domain/types.js';
import type { TestContext } from './context.js';
import { newUser, owning } from './copy-fixtures.js';
import { eventually } from './eventually.js';

/** What the seeded parties present: the called party's tone to the caller, the caller's to the called party. */
export const TONES = {
  toCaller: { resourceId: 'r-song', contentUri: 'https://media.example.net/tones/r-song.mp3' },
  toCalled: { resourceId: 'r-tune', contentUri: 'https://media.example.net/tones/r-tune.mp3' },
} as const;

/** What copying each tone costs, in EUR cents (see `seedCopyCatalog`). */
export const COPY_PRICE = { 'r-song': 99, 'r-tune': 50 } as const;

export interface Parties {
  caller: Identity;
  called: Identity;
}

/**
 * Two new subscribers (the catalog of `seedCopyCatalog` must be there): the called party presents `TONES.toCaller` to every caller, the caller presents `TONES.toCalled`. */
export async function newParties(ctx: TestContext): Promise<Parties> {
  const parties = { caller: newUser(), called: newUser() };
  await owning(ctx.services, parties.called, [TONES.toCaller.resourceId]);
  await owning(ctx.services, parties.caller, [TONES.toCalled.resourceId]);
  return parties;
}

/** `+15551230001` for `tel:+15551230001`: the form sipp scenarios and SIP URIs take. */
export function numberOf(identity: Identity): string {
  if (!identity.startsWith('tel:')) throw new Error(`${identity} is not a telephone number`);
  return identity.slice('tel:'.length);
}

/** The presenting session of a call (GET /v1/calls/{callId}); null when the server knows no such call. */
export async function presentingSession(ctx: TestContext, callId: string): Promise<PresentingSession | null> {
  const response = await ctx.app.inject({ method: 'GET', url: `/v1/calls/${encodeURIComponent(callId)}`, headers: ctx.sp });
  if (response.statusCode === 404) return null;
  expect(response.statusCode, response.body).toBe(200);
  return response.json<PresentingSession>();
}

/** Waits until the call's session is in `state` (the fronts report call events without waiting for the store). */
export async function sessionWhen(ctx: TestContext, callId: string, state: PresentingSession['state']): Promise<PresentingSession> {
  return eventually(async () => {
    const session = await presentingSession(ctx, callId);
    expect(session?.state).toBe(state);
    return session!;
  });
}

/** A call that ended without being answered (CANCEL, a failure). */
export async function expectEndedUnanswered(ctx: TestContext, callId: string): Promise<void> {
  const session = await sessionWhen(ctx, callId, 'ended');
  expect(session.answeredAt).toBeUndefined();
}

/** A call that was answered and has ended. */
export async function expectEndedAfterAnswer(ctx: TestContext, callId: string): Promise<PresentingSession> {
  const session = await sessionWhen(ctx, callId, 'ended');
  expect(session.answeredAt).toBeDefined();
  return session;
}

/** The user's charges, newest first (GET /v1/users/{uid}/charges). */
export async function chargesOf(ctx: TestContext, uid: Identity): Promise<ChargeRecord[]> {
  const response = await ctx.app.inject({ method: 'GET', url: `/v1/users/${encodeURIComponent(uid)}/charges`, headers: ctx.as(uid) });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<{ items: ChargeRecord[] }>().items;
}

/** The user's activities, newest first (GET /v1/users/{uid}/activities). */
export async function activitiesOf(ctx: TestContext, uid: Identity): Promise<ActivityRecord[]> {
  const response = await ctx.app.inject({ method: 'GET', url: `/v1/users/${encodeURIComponent(uid)}/activities`, headers: ctx.as(uid) });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<{ items: Array<{ record: ActivityRecord }> }>().items.map((item) => item.record);
}

/** Library entries the user got by copying. */
export async function copiesOf(ctx: TestContext, uid: Identity): Promise<LibraryEntry[]> {
  const response = await ctx.app.inject({ method: 'GET', url: `/v1/users/${encodeURIComponent(uid)}/library`, headers: ctx.as(uid) });
  expect(response.statusCode, response.body).toBe(200);
  return response.json<LibraryEntry[]>().filter((e) => e.origin === 'copy-online' || e.origin === 'copy-offline');
}

/**
 * Exactly one online copy of `resourceId` from `owner` in the requestor's library, paid by exactly
 * one granted charge of its copy price naming the call's parties; returns the entry.
 */
export async function expectOneCopy(
  ctx: TestContext,
  copy: { requestor: Identity; owner: Identity; resourceId: keyof typeof COPY_PRICE; call: Parties },
): Promise<LibraryEntry> {
  const copies = await copiesOf(ctx, copy.requestor);
  expect(copies).toEqual([expect.objectContaining({ resourceId: copy.resourceId, origin: 'copy-online', from: copy.owner, status: 'active' })]);
  const charges = await chargesOf(ctx, copy.requestor);
  expect(charges).toEqual([
    expect.objectContaining({
      id: copies[0]!.chargeId,
      subscriber: copy.requestor,
      kind: 'copy-online',
      amount: COPY_PRICE[copy.resourceId],
      currency: 'EUR',
      outcome: 'granted',
      resourceIds: [copy.resourceId],
      calling: copy.call.caller,
      called: copy.call.called,
    }),
  ]);
  return copies[0]!;
}

/** The caller copied what it was presented (the called party's tone), charged once; the called party got nothing. */
export async function expectCallerCopied(ctx: TestContext, parties: Parties): Promise<LibraryEntry> {
  const entry = await expectOneCopy(ctx, { requestor: parties.caller, owner: parties.called, resourceId: TONES.toCaller.resourceId, call: parties });
  expect(await copiesOf(ctx, parties.called)).toEqual([]);
  expect(await chargesOf(ctx, parties.called)).toEqual([]);
  return entry;
}

/** The called party copied what it was presented (the caller's tone), charged once; the caller got nothing. */
export async function expectCalledCopied(ctx: TestContext, parties: Parties): Promise<LibraryEntry> {
  const entry = await expectOneCopy(ctx, { requestor: parties.called, owner: parties.caller, resourceId: TONES.toCalled.resourceId, call: parties });
  expect(await copiesOf(ctx, parties.caller)).toEqual([]);
  expect(await chargesOf(ctx, parties.caller)).toEqual([]);
  return entry;
}

/** Neither party copied nor paid anything. */
export async function expectNothingCopied(ctx: TestContext, parties: Parties): Promise<void> {
  for (const uid of [parties.caller, parties.called]) {
    expect(await copiesOf(ctx, uid)).toEqual([]);
    expect(await chargesOf(ctx, uid)).toEqual([]);
  }
}

/** How many selections the server has shed for overload so far (`cmr_selections_total{result="shed"}`). */
export async function selectionsShed(ctx: TestContext): Promise<number> {
  return (await ctx.services.metrics.selections.get()).values.find((v) => v.labels.result === 'shed')?.value ?? 0;
}
