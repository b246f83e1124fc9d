/**
 * Part 5, media: calls through the drachtio front (the tests' scripted drachtio peer)
 * whose caller hears a ringback tone played by a real rtpengine, against the same calls through
 * the same kind of front without rtpengine (announcement only), in the same run, alternating
 * which goes first. Calls are placed one after the other (INVITE → 183 or 180 → 200 → ACK →
 * BYE), after one call each that is not counted (the tone's content is fetched on the first): calls per second is the inverse of what one call costs end to end, and INVITE→18x is the
 * delay the tone adds before the caller hears anything.
 */
import { DrachtioPeer } from '../../test/support/drachtio-peer.js';
import { eventually } from '../../test/support/eventually.js';
import { createTestContext, type TestContext } from '../../test/support/context.js';
import { entry, resource, seedCatalog, seedUser } from '../../test/support/presentation-fixtures.js';
import { MediaParty } from '../../test/support/rtp-audio.js';
import { TestRtpengine } from '../../test/support/rtpengine.js';
import { ToneServer } from '../../test/support/tone-server.js';
import { startSignalling, type SignallingFront } from '../../src/signalling.js';
import type { Identity } from '../../src/domain/identity.js';
import type { BenchOptions } from '../options.js';
import { benchEnv, type Progress } from '../run.js';
import { percentiles, round } from '../stats.js';

const SECRET = 'bench-secret';
const CALLED = 'tel:+15550009001' as Identity;
const CALLER = 'tel:+15550009002';

export interface MediaVariantFigures {
  calls: number;
  failed: number;
  callsPerSec: number;
  /** INVITE → first 18x at the caller, ms. */
  progressMs: { p50: number | null; p99: number | null };
  /** Tones started, by result (`cmr_media_plays_total`). */
  plays: Record<string, number>;
}

export interface MediaFigures {
  withTone: MediaVariantFigures;
  without: MediaVariantFigures;
  /** Calls per second with the tone over without. */
  ratio: number | null;
}

interface Front {
  ctx: TestContext;
  front: SignallingFront;
  connection: Awaited<ReturnType<DrachtioPeer['nextConnection']>>;
}

export async function benchMedia(options: BenchOptions, progress: Progress): Promise<MediaFigures> {
  const [engine, tones, peer, callerMedia, calledMedia] = await Promise.all([TestRtpengine.start(), ToneServer.start(), DrachtioPeer.start({ secret: SECRET }), MediaParty.open(), MediaParty.open()]);
  const fronts: Front[] = [];
  try {
    const start = async (extra: Record<string, string>): Promise<Front> => {
      const ctx = await createTestContext({ env: benchEnv(options, { CMR_DRACHTIO_HOST: '127.0.0.1', CMR_DRACHTIO_PORT: String(peer.port), CMR_DRACHTIO_SECRET: SECRET, CMR_DRAIN_TIMEOUT_MS: '2000', ...extra }) });
      const connecting = peer.nextConnection();
      const front = await startSignalling(ctx.services, { calls: ctx.services.calls, copy: ctx.services.sipCopy });
      const started = { ctx, front, connection: await connecting };
      fronts.push(started);
      await eventually(async () => {
        if (!(await ctx.services.readiness.report()).checks['sip']) throw new Error('the drachtio front is not ready');
      }, 10_000);
      await seedCatalog(ctx.services, [resource('r-bench-tone', { contentUri: tones.url('/tone-48k.wav'), mimeType: 'audio/wav' })]);
      await seedUser(ctx.services, CALLED, { preferences: { default: { resourceId: 'r-bench-tone' } }, library: [entry('r-bench-tone')] });
      return started;
    };
    const withTone = await start({ CMR_RTPENGINE: engine.target, CMR_MEDIA_ALLOW_HOSTS: '127.0.0.1' });
    const without = await start({});
    // One call each first, not counted: the tone's content is fetched and cached on the first.
    for (const front of [withTone, without]) await placeCalls(peer, front, 1, callerMedia, calledMedia);
    withTone.ctx.services.metrics.mediaPlays.reset();
    const perRound = options.smoke ? 10 : 200;
    const runs = { withTone: [] as CallTiming[], without: [] as CallTiming[] };
    for (let round = 0; round < 2; round++) {
      const order = round % 2 === 0 ? (['withTone', 'without'] as const) : (['without', 'withTone'] as const);
      for (const variant of order) {
        const front = variant === 'withTone' ? withTone : without;
        const timings = await placeCalls(peer, front, perRound, callerMedia, calledMedia);
        runs[variant].push(...timings);
        progress(`media ${variant} round ${round + 1}: ${summary(timings)}`);
      }
    }
    const figures = {
      withTone: await variantFigures(runs.withTone, withTone),
      without: await variantFigures(runs.without, without),
    };
    return { ...figures, ratio: figures.without.callsPerSec > 0 ? round(figures.withTone.callsPerSec / figures.without.callsPerSec, 2) : null };
  } finally {
    for (const { front, ctx } of fronts) {
      await front.stop();
      await ctx.close();
    }
    await peer.close();
    await Promise.all([engine.stop(), tones.close(), callerMedia.close(), calledMedia.close()]);
  }
}

interface CallTiming {
  ok: boolean;
  progressMs: number;
  totalMs: number;
}

async function placeCalls(peer: DrachtioPeer, front: Front, count: number, callerMedia: MediaParty, calledMedia: MediaParty): Promise<CallTiming[]> {
  const timings: CallTiming[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    try {
      const a = peer.call({
        from: `<sip:${CALLER.slice(4)}@ims.example.net;user=phone>`,
        to: `<sip:${CALLED.slice(4)}@ims.example.net;user=phone>`,
        headers: [['P-Asserted-Identity', `<${CALLER}>`]],
        body: callerMedia.sdp(),
        connection: front.connection,
      });
      const b = await peer.nextCallee();
      b.respond(180);
      // A call that fell back to the announcement (counted in `plays`) rings with the called party's 180.
      await a.next((m) => m.isResponse && (m.status === 180 || m.status === 183), 'the first 18x');
      const progressMs = performance.now() - started;
      b.respond(200, { body: calledMedia.sdp() });
      await b.nextRequest('ACK');
      await a.response(200);
      a.ack();
      const bye = a.request('BYE');
      b.reply(await b.nextRequest('BYE'), 200);
      await bye.response();
      timings.push({ ok: true, progressMs, totalMs: performance.now() - started });
    } catch {
      timings.push({ ok: false, progressMs: 0, totalMs: performance.now() - started });
    }
  }
  return timings;
}

async function variantFigures(timings: CallTiming[], front: Front): Promise<MediaVariantFigures> {
  const ok = timings.filter((t) => t.ok);
  const totalSec = timings.reduce((sum, t) => sum + t.totalMs, 0) / 1000;
  const progress = percentiles(ok.map((t) => t.progressMs));
  const metric = await front.ctx.services.metrics.mediaPlays.get();
  return {
    calls: timings.length,
    failed: timings.length - ok.length,
    callsPerSec: totalSec > 0 ? round(ok.length / totalSec, 1) : 0,
    progressMs: { p50: progress ? round(progress.p50, 2) : null, p99: progress ? round(progress.p99, 2) : null },
    plays: Object.fromEntries(metric.values.map((v) => [String(v.labels['result']), v.value])),
  };
}

function summary(timings: CallTiming[]): string {
  const ok = timings.filter((t) => t.ok);
  const totalSec = timings.reduce((sum, t) => sum + t.totalMs, 0) / 1000;
  return `${ok.length}/${timings.length} ok, ${totalSec > 0 ? round(ok.length / totalSec, 1) : 0} calls/s`;
}
