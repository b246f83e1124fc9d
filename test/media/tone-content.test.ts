/**
 * Local copies of tone content against a real HTTP server: one fetch per URI however many calls
 * ask at once, kept across a restart of the server process (the cache directory), revalidated
 * with its validator once old or once its resource changed in the catalog, and never from a host
 * the policy refuses.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostPolicy } from '../../src/media/host-policy.js';
import { ContentUnavailable, ToneContent } from '../../src/media/tone-content.js';
import { eventually } from '../support/eventually.js';
import { toneWav } from '../support/rtp-audio.js';
import { ToneServer } from '../support/tone-server.js';

let tones: ToneServer;
let root: string;
beforeAll(async () => {
  [tones, root] = await Promise.all([ToneServer.start(), mkdtemp(join(tmpdir(), 'cmr-tone-content-'))]);
});
afterAll(async () => {
  await tones?.close();
  await rm(root, { recursive: true, force: true });
});

async function content(dir: string, clock: { now: number } = { now: Date.now() }, allow = '127.0.0.1'): Promise<ToneContent> {
  return new ToneContent({ dir, policy: new HostPolicy(allow), timeoutMs: 2000, maxBytes: 1_000_000, logger: pino({ level: 'silent' }), now: () => clock.now });
}

const requests = (path: string) => tones.requests.get(path) ?? 0;

describe('tone content', () => {
  it('fetches once for calls asking at once, keeps the copy across a restart, and revalidates it once old', async () => {
    const dir = await mkdtemp(join(root, 'cache-'));
    const uri = tones.url('/tone-44k.wav');
    const clock = { now: Date.now() };
    const first = await content(dir, clock);
    const before = requests('/tone-44k.wav');
    const files = await Promise.all(Array.from({ length: 5 }, () => first.localFile(uri)));
    expect(new Set(files).size).toBe(1);
    expect(files[0]).toMatch(/\.wav$/);
    expect(await readFile(files[0]!)).toEqual(toneWav(44100));
    expect(requests('/tone-44k.wav') - before).toBe(1);
    await first.close();

    // Another process on the same directory: the copy is there, nothing fetched while it is fresh.
    const second = await content(dir, clock);
    expect(await second.localFile(uri)).toBe(files[0]);
    expect(requests('/tone-44k.wav') - before).toBe(1);
    // Six minutes on: the copy is used at once and revalidated behind (304 to its ETag).
    clock.now += 6 * 60_000;
    expect(await second.localFile(uri)).toBe(files[0]);
    await eventually(() => expect(requests('/tone-44k.wav') - before).toBe(2));
    expect(await readFile(files[0]!)).toEqual(toneWav(44100));
    await second.close();
  });

  it('revalidates a copy when its resource changes in the catalog, once per change, across restarts', async () => {
    const dir = await mkdtemp(join(root, 'cache-'));
    const uri = tones.url('/tone-48k.wav');
    const first = await content(dir);
    await first.localFile(uri);
    const before = requests('/tone-48k.wav');
    await first.catalogChanged(uri, '2026-01-01T00:00:00.000Z'); // the version the copy was fetched at
    await first.catalogChanged(uri, '2026-01-01T00:00:00.000Z');
    expect(requests('/tone-48k.wav')).toBe(before);
    await first.catalogChanged(uri, '2026-02-01T00:00:00.000Z');
    await eventually(() => expect(requests('/tone-48k.wav')).toBe(before + 1));
    await first.close();
    const second = await content(dir);
    await second.catalogChanged(uri, '2026-02-01T00:00:00.000Z');
    expect(await second.localFile(uri)).toMatch(/\.wav$/);
    expect(requests('/tone-48k.wav')).toBe(before + 1);
    await second.close();
  });

  it('refuses a loopback host not allowed, and follows a redirect only where the policy allows', async () => {
    const refused = await content(await mkdtemp(join(root, 'cache-')), undefined, '');
    await expect(refused.localFile(tones.url('/tone-48k.wav'))).rejects.toThrow(ContentUnavailable);
    await expect(refused.localFile('file:///etc/hostname')).rejects.toThrow(/not http/);
    await refused.close();

    const allowed = await content(await mkdtemp(join(root, 'cache-')));
    expect(await readFile(await allowed.localFile(tones.url('/moved.wav')))).toEqual(toneWav(48000));
    await expect(allowed.localFile(tones.url('/moved-away.wav'))).rejects.toThrow(/127\.0\.0\.2 is not a public address/);
    await allowed.close();
  });
});
