/** What the media tests assert of RTP: the caller hears the tone, then the parties hear each other. */
import { expect } from 'vitest';
import { eventually } from './eventually.js';
import { correlationWithTone, type MediaParty, type RtpPacket } from './rtp-audio.js';

/** The caller hears the tone: the first packet within 200 ms of `since`, then 1.1 s of PCMU that correlates ≥ 0.99 with it. */
export async function expectToneHeard(caller: MediaParty, since: number): Promise<void> {
  const [first] = await caller.received(1);
  expect(first!.at - since).toBeLessThan(200);
  const heard = (await caller.received(caller.packets.length + 60)).slice(-55);
  expect(heard.every((p) => p.payloadType === 0)).toBe(true);
  expect(correlationWithTone(heard)).toBeGreaterThanOrEqual(0.99);
}

/**
 * After the answer: each party's RTP reaches the other byte for byte through the relay (at
 * `callerSide`, the port the caller was given; `calledSide`, the one the called party was
 * offered), and no tone packet comes to the caller once the called party's media does.
 */
export async function expectPartiesHearEachOther(caller: MediaParty, callerSide: number, called: MediaParty, calledSide: number): Promise<void> {
  const since = caller.packets.length;
  const fromCalled = Array.from({ length: 10 }, (_, i) => Buffer.alloc(160, 0x20 + i));
  const fromCaller = Array.from({ length: 10 }, (_, i) => Buffer.alloc(160, 0x40 + i));
  const calledBefore = called.packets.length;
  for (let i = 0; i < 10; i++) {
    await caller.send(callerSide, fromCaller[i]!);
    await called.send(calledSide, fromCalled[i]!);
  }
  await eventually(() => expect(inSequence(called.packets.slice(calledBefore)).map((p) => p.payload)).toEqual(fromCaller));
  await eventually(() => expect(caller.packets.slice(since).filter((p) => fromCalled.some((b) => b.equals(p.payload)))).toHaveLength(10));
  // A tone packet already on its way when the tone stopped may still arrive; none after the called party's media.
  const firstFromCalled = caller.packets.findIndex((p, i) => i >= since && fromCalled.some((b) => b.equals(p.payload)));
  expect(inSequence(caller.packets.slice(firstFromCalled)).map((p) => p.payload)).toEqual(fromCalled);
}

/** Packets of one stream in RTP sequence order, counted from the first one's (across a wrap): rtpengine's threads may swap two on a busy machine. */
function inSequence(packets: RtpPacket[]): RtpPacket[] {
  const base = packets[0]?.sequence ?? 0;
  const order = (p: RtpPacket) => (p.sequence - base + 0x8000) & 0xffff;
  return [...packets].sort((x, y) => order(x) - order(y));
}
