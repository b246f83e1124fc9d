/**
 * Ringback tones the caller hears, through the drachtio front (scripted drachtio-server) and a
 * real rtpengine, with two UDP sockets as the parties' media: the caller's 183 points at
 * rtpengine and the tone plays until the answer, the 200 carries the same SDP, then the parties
 * hear each other; CANCEL, failure and BYE leave nothing on rtpengine; every fault is today's
 * call (announcement only).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectEndedUnanswered, numberOf } from '../../support/call-outcomes.js';
import { newUser, owning } from '../../support/copy-fixtures.js';
import { drachtioSuite, startDrachtioApp, type DrachtioApp } from '../../support/drachtio-app.js';
import { callerCopyRequest, hangUp, type DrachtioCall } from '../../support/drachtio-calls.js';
import type { DrachtioPeer } from '../../support/drachtio-peer.js';
import type { HeaderList } from '../../support/raw-sip.js';
import { eventually } from '../../support/eventually.js';
import { resource, seedCatalog } from '../../support/presentation-fixtures.js';
import { expectPartiesHearEachOther, expectToneHeard } from '../../support/media-expectations.js';
import { audioPort, connectionAddress, MediaParty } from '../../support/rtp-audio.js';
import { freeUdpPort, TestRtpengine } from '../../support/rtpengine.js';
import { ToneServer } from '../../support/tone-server.js';

let engine: TestRtpengine;
let tones: ToneServer;
let cacheDir: string;
beforeAll(async () => {
  [engine, tones, cacheDir] = await Promise.all([TestRtpengine.start(), ToneServer.start(), mkdtemp(join(tmpdir(), 'cmr-early-media-'))]);
});
afterAll(async () => {
  await engine?.stop();
  await tones?.close();
  await rm(cacheDir, { recursive: true, force: true });
});

const mediaEnv = (env: Record<string, string> = {}) => ({ CMR_RTPENGINE: engine.target, CMR_MEDIA_ALLOW_HOSTS: '127.0.0.1', CMR_MEDIA_CACHE_DIR: cacheDir, ...env });

let peer: DrachtioPeer;
let app: DrachtioApp;
/** An app on the peer with rtpengine and the tones' catalog. */
async function startMediaApp(p: DrachtioPeer, env: Record<string, string> = {}): Promise<DrachtioApp> {
  const started = await startDrachtioApp(p, { env: mediaEnv(env) });
  const content = { '/tone-48k.wav': 'r-ring', '/missing.wav': 'r-missing', '/slow.wav': 'r-slow' };
  await seedCatalog(started.ctx.services, Object.entries(content).map(([path, id]) => resource(id, { contentUri: tones.url(path), mimeType: 'audio/wav' })));
  return started;
}
drachtioSuite(startMediaApp, (started) => ({ peer, app } = started));

const opened: MediaParty[] = [];
afterAll(async () => {
  await Promise.all(opened.map((m) => m.close()));
});
async function media(): Promise<MediaParty> {
  const m = await MediaParty.open();
  opened.push(m);
  return m;
}

/** A call from `callerMedia` to a new subscriber who presents `resourceId` to callers. */
async function placeCall(callerMedia: MediaParty, options: { resourceId?: string; headers?: HeaderList; body?: string; to?: DrachtioApp } = {}): Promise<DrachtioCall> {
  const parties = { caller: newUser(), called: newUser() };
  await owning((options.to ?? app).ctx.services, parties.called, [options.resourceId ?? 'r-ring']);
  const a = peer.call({
    from: `<sip:${numberOf(parties.caller)}@ims.example.net;user=phone>`,
    to: `<sip:${numberOf(parties.called)}@ims.example.net;user=phone>`,
    headers: [['P-Asserted-Identity', `<${parties.caller}>`], ...(options.headers ?? [])],
    body: options.body ?? callerMedia.sdp('0 8 101', ['a=rtpmap:101 telephone-event/8000']),
    connection: await (options.to ?? app).callConnection(),
  });
  return { parties, a, b: await peer.nextCallee() };
}

const alertInfo = (id: string) => `<${tones.url({ 'r-ring': '/tone-48k.wav', 'r-missing': '/missing.wav', 'r-slow': '/slow.wav' }[id]!)}>;resource=${id}`;

async function held(callId: string): Promise<boolean> {
  return (await engine.callIds()).includes(callId);
}

/** The call goes on as without media: the caller's own offer to the called party, its 180 relayed with the announcement, its answer to the caller. */
async function expectTodaysCall(call: DrachtioCall, calledMedia: MediaParty, resourceId: string): Promise<void> {
  const { a, b } = call;
  expect(b.invite.body).toBe(a.invite.body);
  b.respond(180);
  const ringing = await a.response(180);
  expect(ringing.values('alert-info')).toEqual([alertInfo(resourceId)]);
  expect(ringing.body).toBe('');
  const answer = calledMedia.sdp();
  b.respond(200, { body: answer });
  await b.nextRequest('ACK');
  expect((await a.response(200)).body).toBe(answer);
  a.ack();
  expect(await held(a.callId)).toBe(false);
  await hangUp(app, call);
}

describe('drachtio front: the caller hears the ringback tone (early media on rtpengine)', () => {
  it('183 with rtpengine\'s SDP and the announcement, the tone until the answer, the same SDP in the 200, then the parties', async () => {
    const [callerMedia, calledMedia] = await Promise.all([media(), media()]);
    const call = await placeCall(callerMedia);
    const { a, b } = call;

    const progress = await a.response(183);
    const progressAt = performance.now();
    expect(connectionAddress(progress.body)).toBe('127.0.0.1');
    const relayPort = audioPort(progress.body);
    expect(relayPort).not.toBe(callerMedia.port);
    expect(progress.header('content-type')).toBe('application/sdp');
    expect(progress.values('alert-info')).toEqual([alertInfo('r-ring')]);
    expect(progress.values('recv-info')).toEqual(['cmr-copy']);
    expect(progress.headerAll('contact')).toEqual(['<sip:127.0.0.1:5060>']);
    expect(progress.header('require')).toBeUndefined();
    expect(progress.header('p-early-media')).toBeUndefined();
    // The called party is offered rtpengine, not the caller.
    const calledSide = audioPort(b.invite.body);
    expect(connectionAddress(b.invite.body)).toBe('127.0.0.1');
    expect(calledSide).not.toBe(callerMedia.port);

    await expectToneHeard(callerMedia, progressAt);

    // The called party rings and sends early media of its own: neither reaches the caller.
    b.respond(180);
    const early = Buffer.alloc(160, 0x11);
    for (let i = 0; i < 5; i++) await calledMedia.send(calledSide, early);
    const answer = calledMedia.sdp();
    b.respond(200, { body: answer });
    await b.nextRequest('ACK');
    const ok = await a.response(200);
    a.ack();
    expect(ok.body).toBe(progress.body);
    expect(a.pending).toEqual([]); // no 180 relayed
    await expectPartiesHearEachOther(callerMedia, relayPort, calledMedia, calledSide);
    expect(callerMedia.packets.some((p) => p.payload.equals(early))).toBe(false);

    await hangUp(app, call);
    await eventually(async () => expect(await held(a.callId)).toBe(false));
  });

  it('a caller that takes 100rel and P-Early-Media (IMS): a reliable 183 with P-Early-Media: sendonly, and the 200 only once it is PRACKed', async () => {
    const [callerMedia, calledMedia] = await Promise.all([media(), media()]);
    const call = await placeCall(callerMedia, { headers: [['Supported', '100rel'], ['P-Early-Media', 'supported']] });
    const { a, b } = call;
    const progress = await a.response(183);
    expect(progress.header('require')).toBe('100rel');
    expect(progress.header('rseq')).toBeDefined();
    expect(progress.header('p-early-media')).toBe('sendonly');
    await expectToneHeard(callerMedia, performance.now());

    b.respond(200, { body: calledMedia.sdp() });
    await b.nextRequest('ACK');
    expect(a.pending).toEqual([]); // the 200 waits for the PRACK
    expect((await a.prack(progress).response()).status).toBe(200);
    const ok = await a.response(200);
    a.ack();
    expect(ok.body).toBe(progress.body);
    await expectPartiesHearEachOther(callerMedia, audioPort(progress.body), calledMedia, audioPort(b.invite.body));
    await hangUp(app, call);
    await eventually(async () => expect(await held(a.callId)).toBe(false));
  });

  it('copy while the tone plays works as without media', async () => {
    const [callerMedia, calledMedia] = await Promise.all([media(), media()]);
    const call = await placeCall(callerMedia, { headers: [['Supported', '100rel']] });
    const { a, b } = call;
    const progress = await a.response(183);
    expect((await a.prack(progress).response()).status).toBe(200);
    const copied = await a.request('INFO', callerCopyRequest(call)).response();
    expect(copied.status).toBe(200);
    expect(JSON.parse(copied.body)).toMatchObject({ result: 'copied' });
    await expectToneHeard(callerMedia, performance.now());
    b.respond(200, { body: calledMedia.sdp() });
    await b.nextRequest('ACK');
    expect((await a.response(200)).body).toBe(progress.body);
    a.ack();
    await hangUp(app, call);
  });

  it('CANCEL while the tone plays: the called party is cancelled and the media session goes at once', async () => {
    const call = await placeCall(await media());
    const { a, b } = call;
    await a.response(183);
    expect(await held(a.callId)).toBe(true);
    a.cancel();
    await b.nextRequest('CANCEL');
    expect((await a.response(487)).status).toBe(487);
    b.respond(487);
    await expectEndedUnanswered(app.ctx, a.callId);
    await eventually(async () => expect(await held(a.callId)).toBe(false));
  });

  it('the called party busy: its failure reaches the caller and the media session goes at once', async () => {
    const call = await placeCall(await media());
    const { a, b } = call;
    await a.response(183);
    b.respond(486);
    expect((await a.response(486)).status).toBe(486);
    await b.nextRequest('ACK');
    await expectEndedUnanswered(app.ctx, a.callId);
    await eventually(async () => expect(await held(a.callId)).toBe(false));
  });
});

describe('drachtio front: every media fault is today\'s call', () => {
  it('content that cannot be fetched', async () => {
    const callerMedia = await media();
    await expectTodaysCall(await placeCall(callerMedia, { resourceId: 'r-missing' }), await media(), 'r-missing');
  });

  it('a caller rtpengine cannot play to (AMR only: play gives no duration)', async () => {
    const callerMedia = await media();
    const amr = callerMedia.sdp('96', ['a=rtpmap:96 AMR/8000']);
    await expectTodaysCall(await placeCall(callerMedia, { body: amr }), await media(), 'r-ring');
  });

  const onOtherApp: Array<[string, () => Promise<Record<string, string>>, string]> = [
    ['content slower than the selection budget', async () => ({ CMR_SELECT_BUDGET_MS: '300' }), 'r-slow'],
    ['rtpengine not answering', async () => ({ CMR_RTPENGINE: `127.0.0.1:${await freeUdpPort()}`, CMR_RTPENGINE_TIMEOUT_MS: '100' }), 'r-ring'],
  ];
  it('rtpengine gone while the tone plays: the call is still answered (the 200 carries the 183\'s SDP) and released', async () => {
    const lost = await TestRtpengine.start();
    const other = await startMediaApp(peer, { CMR_RTPENGINE: lost.target, CMR_RTPENGINE_TIMEOUT_MS: '100' });
    try {
      const call = await placeCall(await media(), { to: other });
      const progress = await call.a.response(183);
      await lost.stop();
      call.b.respond(200, { body: (await media()).sdp() });
      await call.b.nextRequest('ACK');
      expect((await call.a.response(200)).body).toBe(progress.body);
      call.a.ack();
      await hangUp(other, call);
    } finally {
      await other.close();
      await lost.stop();
    }
  });

  for (const [what, env, resourceId] of onOtherApp) {
    it(what, async () => {
      tones.slowMs = 5000;
      const other = await startMediaApp(peer, await env());
      try {
        const call = await placeCall(await media(), { resourceId, to: other });
        expect(call.b.invite.body).toBe(call.a.invite.body);
        call.b.respond(180);
        expect((await call.a.response(180)).values('alert-info')).toEqual([alertInfo(resourceId)]);
        call.b.respond(486);
        await call.a.response(486);
        await call.b.nextRequest('ACK');
        expect(await held(call.a.callId)).toBe(false);
      } finally {
        await other.close();
      }
    });
  }
});
