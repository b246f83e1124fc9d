/**
 * The media port on a real rtpengine, with two UDP sockets as the parties' media: the caller
 * hears the tone (decoded μ-law correlated with what was played), then the called party, on
 * the same port; every fault ends in no tone, quickly, with nothing left on rtpengine.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import type { MediaPort, ToneCall } from '../../src/media/media-port.js';
import { startMediaPort } from '../../src/media/media.js';
import { Metrics } from '../../src/observability/metrics.js';
import { eventually } from '../support/eventually.js';
import { expectPartiesHearEachOther, expectToneHeard } from '../support/media-expectations.js';
import { audioPort, connectionAddress, MediaParty, toneWav } from '../support/rtp-audio.js';
import { freeUdpPort, TestRtpengine } from '../support/rtpengine.js';
import { ToneServer } from '../support/tone-server.js';

const logger = pino({ level: 'silent' });
let engine: TestRtpengine;
let tones: ToneServer;
let cacheDir: string;
const opened: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  [engine, tones, cacheDir] = await Promise.all([TestRtpengine.start(), ToneServer.start(), mkdtemp(join(tmpdir(), 'cmr-media-test-'))]);
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((o) => o.close()));
});
afterAll(async () => {
  await engine?.stop();
  await tones?.close();
  await rm(cacheDir, { recursive: true, force: true });
});

async function mediaPort(env: Record<string, string> = {}): Promise<{ media: MediaPort; metrics: Metrics }> {
  const config = loadConfig({ CMR_RTPENGINE: engine.target, CMR_MEDIA_CACHE_DIR: cacheDir, CMR_MEDIA_ALLOW_HOSTS: '127.0.0.1', ...env }, {});
  const metrics = new Metrics();
  const media = await startMediaPort(config.media, logger, metrics);
  if (!media) throw new Error('no media port with CMR_RTPENGINE set');
  opened.push(media);
  return { media, metrics };
}

async function party(): Promise<MediaParty> {
  const p = await MediaParty.open();
  opened.push(p);
  return p;
}

let calls = 0;
function toneCall(caller: MediaParty, sdp = caller.sdp('0 8 101', ['a=rtpmap:101 telephone-event/8000'])): ToneCall {
  calls += 1;
  return { callId: `media-${process.pid}-${calls}`, fromTag: `caller-${calls}`, callerSdp: sdp, log: logger };
}

const resource = (path: string) => ({ resourceId: 'r-tone', contentUri: tones.url(path) });

async function plays(metrics: Metrics): Promise<Record<string, number>> {
  const metric = await metrics.mediaPlays.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.result), v.value]));
}

/** Whether rtpengine still holds the call (it holds deleted ones for their delete delay). */
async function held(callId: string): Promise<boolean> {
  return (await engine.callIds()).includes(callId);
}

describe('media port on rtpengine', () => {
  for (const path of ['/tone-48k.wav', '/tone-44k.wav']) {
    it(`plays ${path} to the caller at once, then the parties hear each other on the same port`, async () => {
      const { media, metrics } = await mediaPort();
      const [caller, called] = await Promise.all([party(), party()]);
      const call = toneCall(caller);
      const asked = performance.now();
      const playing = await media.startTone(call, resource(path), 2000);
      expect(playing).not.toBeNull();
      expect(connectionAddress(playing!.callerSdp)).toBe('127.0.0.1');
      const relayPort = audioPort(playing!.callerSdp);
      expect(relayPort).not.toBe(caller.port);
      expect(audioPort(playing!.calledOffer)).not.toBe(caller.port);

      await expectToneHeard(caller, asked);
      expect(await plays(metrics)).toEqual({ playing: 1 });
      expect((await metrics.mediaPlayStart.get()).values.find((v) => v.metricName === 'cmr_media_play_start_seconds_count')?.value).toBe(1);

      // The called party's early media does not leak into the tone.
      const calledPort = audioPort(playing!.calledOffer);
      const early = Buffer.alloc(160, 0x11);
      for (let i = 0; i < 5; i++) await called.send(calledPort, early);

      const answer = await media.answered(call.callId, called.sdp());
      expect(answer).not.toBeNull();
      expect(audioPort(answer!)).toBe(relayPort);
      await expectPartiesHearEachOther(caller, relayPort, called, calledPort);
      expect(caller.packets.some((p) => p.payload.equals(early))).toBe(false);

      media.end(call.callId);
      await eventually(async () => expect(await held(call.callId)).toBe(false));
    });
  }

  it('keeps a copy of the content and revalidates nothing while it is fresh', async () => {
    const { media } = await mediaPort();
    const before = tones.requests.get('/tone-48k.wav') ?? 0;
    for (let i = 0; i < 2; i++) {
      const call = toneCall(await party());
      expect(await media.startTone(call, resource('/tone-48k.wav'), 2000)).not.toBeNull();
      media.end(call.callId);
    }
    expect((tones.requests.get('/tone-48k.wav') ?? 0) - before).toBeLessThanOrEqual(1);
  });

  it('deletes at once on end, though rtpengine keeps deleted calls 30 s by default', async () => {
    const { media } = await mediaPort();
    const call = toneCall(await party());
    expect(await media.startTone(call, resource('/tone-48k.wav'), 2000)).not.toBeNull();
    expect(await held(call.callId)).toBe(true);
    media.end(call.callId);
    await eventually(async () => expect(await held(call.callId)).toBe(false));
  });
});

describe('media port faults: no tone, nothing left behind', () => {
  it('rtpengine not answering: no tone, and no waiting once it is known to be down', async () => {
    const { media, metrics } = await mediaPort({ CMR_RTPENGINE: `127.0.0.1:${await freeUdpPort()}`, CMR_RTPENGINE_TIMEOUT_MS: '100' });
    const started = performance.now();
    expect(await media.startTone(toneCall(await party()), resource('/tone-48k.wav'), 2000)).toBeNull();
    expect(performance.now() - started).toBeLessThan(50);
    expect(await plays(metrics)).toEqual({ 'relay-down': 1 });
  });

  it('rtpengine coming back is used again once it answers a ping; gone mid-call, the answer and the delete fail quietly', async () => {
    const port = await freeUdpPort();
    const { media, metrics } = await mediaPort({ CMR_RTPENGINE: `127.0.0.1:${port}`, CMR_RTPENGINE_TIMEOUT_MS: '100' });
    expect(await media.startTone(toneCall(await party()), resource('/tone-48k.wav'), 2000)).toBeNull();
    const late = await TestRtpengine.start(port);
    try {
      const call = toneCall(await party());
      await eventually(async () => expect(await media.startTone(call, resource('/tone-48k.wav'), 2000)).not.toBeNull(), 5000, 100);
      await late.stop();
      const started = performance.now();
      expect(await media.answered(call.callId, (await party()).sdp())).toBeNull();
      expect(performance.now() - started).toBeLessThan(1000);
      media.end(call.callId);
      expect(await media.startTone(toneCall(await party()), resource('/tone-48k.wav'), 2000)).toBeNull();
      expect(await plays(metrics)).toMatchObject({ playing: 1, 'relay-down': expect.any(Number) });
    } finally {
      await late.stop();
    }
  });

  it('a caller whose only codec rtpengine cannot encode (AMR): play gives no duration, no tone', async () => {
    const { media, metrics } = await mediaPort();
    const caller = await party();
    const call = toneCall(caller, caller.sdp('96', ['a=rtpmap:96 AMR/8000', 'a=fmtp:96 octet-align=1']));
    expect(await media.startTone(call, resource('/tone-48k.wav'), 2000)).toBeNull();
    expect(await plays(metrics)).toEqual({ 'no-duration': 1 });
    await eventually(async () => expect(await held(call.callId)).toBe(false));
  });

  const contentFaults: Array<[string, string, Record<string, string>]> = [
    ['content that is not there (404)', '/missing.wav', {}],
    ['content that is not audio', '/page.html', {}],
    ['content past the size limit', '/big.wav', { CMR_MEDIA_MAX_BYTES: '1000000' }],
    ['content from a loopback host not allowed', '/tone-48k.wav', { CMR_MEDIA_ALLOW_HOSTS: '' }],
  ];
  for (const [what, path, env] of contentFaults) {
    it(`${what}: no tone, no media session`, async () => {
      const { media, metrics } = await mediaPort({ ...env, CMR_MEDIA_CACHE_DIR: await mkdtemp(join(cacheDir, 'fault-')) });
      const call = toneCall(await party());
      expect(await media.startTone(call, resource(path), 2000)).toBeNull();
      expect(await plays(metrics)).toEqual({ 'content-unavailable': 1 });
      expect(await held(call.callId)).toBe(false);
    });
  }

  it('a host name that resolves to loopback is refused at connection, unless the name is allowed', async () => {
    const byName = { resourceId: 'r-tone', contentUri: tones.url('/tone-44k.wav').replace('127.0.0.1', 'localhost') };
    const refused = await mediaPort({ CMR_MEDIA_ALLOW_HOSTS: '', CMR_MEDIA_CACHE_DIR: await mkdtemp(join(cacheDir, 'name-')) });
    expect(await refused.media.startTone(toneCall(await party()), byName, 2000)).toBeNull();
    expect(await plays(refused.metrics)).toEqual({ 'content-unavailable': 1 });
    const allowed = await mediaPort({ CMR_MEDIA_ALLOW_HOSTS: 'localhost', CMR_MEDIA_CACHE_DIR: await mkdtemp(join(cacheDir, 'name-')) });
    const call = toneCall(await party());
    expect(await allowed.media.startTone(call, byName, 2000)).not.toBeNull();
    allowed.media.end(call.callId);
  });

  it('content over https whose certificate does not check out (self-signed): no tone', async () => {
    const dir = await mkdtemp(join(cacheDir, 'tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const server = createHttpsServer({ key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) }, (_req, res) => res.writeHead(200, { 'content-type': 'audio/wav' }).end(toneWav(48000)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    opened.push({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
    const { media, metrics } = await mediaPort({ CMR_MEDIA_CACHE_DIR: dir });
    const uri = `https://127.0.0.1:${(server.address() as AddressInfo).port}/tone.wav`;
    expect(await media.startTone(toneCall(await party()), { resourceId: 'r-tone', contentUri: uri }, 2000)).toBeNull();
    expect(await plays(metrics)).toEqual({ 'content-unavailable': 1 });
  });

  it('content slower than the time given: no tone within it; the fetch goes on for the next call', async () => {
    const { media, metrics } = await mediaPort();
    tones.slowMs = 300;
    const started = performance.now();
    const call = toneCall(await party());
    expect(await media.startTone(call, resource('/slow.wav'), 100)).toBeNull();
    expect(performance.now() - started).toBeLessThan(250);
    expect(await plays(metrics)).toEqual({ budget: 1 });
    expect(await held(call.callId)).toBe(false);
    const next = toneCall(await party());
    await eventually(async () => expect(await media.startTone(next, resource('/slow.wav'), 100)).not.toBeNull(), 3000, 100);
    media.end(next.callId);
  });
});
