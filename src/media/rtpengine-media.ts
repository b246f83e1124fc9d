/**
 * The media port on rtpengine. Per call, one rtpengine call named by the caller's Call-ID:
 * the caller's offer; the answer of a placeholder far end (a synthetic to-tag), so rtpengine
 * yields the caller's SDP before the called party answers; the called side's media blocked
 * (its early media would leak into the tone); the tone played toward the caller's From tag,
 * repeated. On the answer: the tone stopped, the block lifted, and the called party's SDP given
 * as the answer of the same to-tag, with `port latching` on both answers so the caller keeps the
 * port it was given in the 183. Every delete asks for no delete delay (rtpengine keeps a
 * deleted call 30 s by default, whatever the daemon was started with).
 */
import type { NgMessage } from 'rtpengine-client';
import { randomHex } from '../domain/ids.js';
import type { PresentedResource } from '../domain/types.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { MediaPort, ToneCall, TonePlaying } from './media-port.js';
import type { RtpengineRelay } from './rtpengine-relay.js';
import { firstSoundCodec, placeholderAnswer } from './sdp-codecs.js';
import { ContentUnavailable, type ToneContent } from './tone-content.js';

/** How often a tone is repeated: past any ringing time (Timer C is 3 minutes) for a tone of a second or more. */
const REPEAT_TIMES = 1000;
const LATCHING: NgMessage = { flags: ['port latching'] };
/** rtpengine rewrites the SDP's origin and connection lines with its own address. */
const REWRITE: NgMessage = { replace: ['origin', 'session-connection'], ICE: 'remove' };

/** How a tone's start ended (the `result` of `cmr_media_plays_total`). */
export type PlayResult = 'playing' | 'relay-down' | 'relay-error' | 'content-unavailable' | 'no-codec' | 'no-duration' | 'budget' | 'no-offer';

interface MediaSession {
  fromTag: string;
  /** The to-tag of the far end rtpengine knows: the placeholder's, then the called party's media. */
  farTag: string;
}

/** The start of a tone did not come off; `result` says why. */
class NoTone extends Error {
  constructor(readonly result: PlayResult, message: string) {
    super(message);
  }
}

export class RtpengineMedia implements MediaPort {
  private readonly sessions = new Map<string, MediaSession>();
  /** Deletes sent and not answered yet: `close` waits for them. */
  private readonly deleting = new Set<Promise<unknown>>();

  constructor(
    private readonly relay: RtpengineRelay,
    private readonly content: ToneContent,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    /** The catalog's `updatedAt` of a resource (null: unknown), read off the call's path to refresh its content. */
    private readonly catalogVersion: (resourceId: string) => Promise<string | null> = () => Promise.resolve(null),
  ) {}

  async startTone(call: ToneCall, resource: PresentedResource, waitMs: number): Promise<TonePlaying | null> {
    const started = performance.now();
    // A relay known to be down costs the call no waiting at all.
    if (!this.relay.isUp) return this.noTone(call, resource, new NoTone('relay-down', 'rtpengine does not answer'));
    if (!call.callerSdp) return this.noTone(call, resource, new NoTone('no-offer', 'the caller made no offer'));
    if (waitMs <= 0) return this.noTone(call, resource, new NoTone('budget', 'selection took the whole budget'));
    let timer: NodeJS.Timeout | undefined;
    const attempt = this.start(call, resource);
    const budget = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new NoTone('budget', `no tone within ${waitMs} ms`)), waitMs);
    });
    try {
      const playing = await Promise.race([attempt, budget]);
      this.metrics.mediaPlays.inc({ result: 'playing' });
      this.metrics.mediaPlayStart.observe((performance.now() - started) / 1000);
      call.log.info({ event: 'media', resourceId: resource.resourceId, ms: Math.round(performance.now() - started) }, 'ringback tone playing to the caller');
      return playing;
    } catch (err) {
      // Whatever it got to, the late attempt leaves nothing behind on rtpengine.
      attempt.then(
        () => this.end(call.callId),
        () => this.end(call.callId),
      );
      return this.noTone(call, resource, err);
    } finally {
      clearTimeout(timer);
    }
  }

  async answered(callId: string, calledSdp: string): Promise<string | null> {
    const session = this.sessions.get(callId);
    if (!session) return null;
    const call = { 'call-id': callId };
    try {
      await Promise.all([
        this.relay.command('stopMedia', { ...call, 'from-tag': session.fromTag }),
        this.relay.command('unblockMedia', { ...call, 'from-tag': session.farTag }),
      ]);
      const answer = await this.relay.command('answer', { ...call, ...REWRITE, ...LATCHING, 'from-tag': session.fromTag, 'to-tag': session.farTag, sdp: calledSdp });
      return answer.sdp ?? null;
    } catch (err) {
      this.log.error({ event: 'media', callId, err: (err as Error).message }, 'rtpengine did not take the answer: the parties may not hear each other');
      return null;
    }
  }

  end(callId: string): void {
    if (!this.sessions.delete(callId)) return;
    const deleted = this.relay
      .command('delete', { 'call-id': callId, 'delete-delay': 0 })
      .catch((err: unknown) => {
        this.log.warn({ event: 'media', callId, err: (err as Error).message }, 'rtpengine did not delete the media session');
      })
      .finally(() => this.deleting.delete(deleted));
    this.deleting.add(deleted);
  }

  /** Deletes what is left on rtpengine (each delete bounded by the command timeout), then stops. */
  async close(): Promise<void> {
    for (const callId of [...this.sessions.keys()]) this.end(callId);
    await Promise.allSettled([...this.deleting]);
    this.relay.close();
    await this.content.close();
  }

  private async start(call: ToneCall, resource: PresentedResource): Promise<TonePlaying> {
    this.refreshContent(resource);
    let file: string;
    try {
      file = await this.content.localFile(resource.contentUri);
    } catch (err) {
      throw err instanceof ContentUnavailable ? new NoTone('content-unavailable', err.message) : err;
    }
    const session: MediaSession = { fromTag: call.fromTag, farTag: `cmr-${randomHex(6)}` };
    const ids = { 'call-id': call.callId, 'from-tag': call.fromTag };
    this.sessions.set(call.callId, session);
    try {
      const offer = await this.relay.command('offer', { ...ids, ...REWRITE, sdp: call.callerSdp });
      const codec = offer.sdp ? firstSoundCodec(offer.sdp) : null;
      if (!offer.sdp || !codec) throw new NoTone('no-codec', 'the caller offers no audio codec');
      const answer = await this.relay.command('answer', { ...ids, ...REWRITE, ...LATCHING, 'to-tag': session.farTag, sdp: placeholderAnswer(codec) });
      if (!answer.sdp) throw new NoTone('relay-error', 'rtpengine gave no SDP for the caller');
      await this.relay.command('blockMedia', { 'call-id': call.callId, 'from-tag': session.farTag });
      const play = await this.relay.command('playMedia', { ...ids, file, 'repeat-times': REPEAT_TIMES });
      // rtpengine answers ok without a duration when it cannot encode to the caller's codec (AMR), and sends nothing.
      if (typeof play.duration !== 'number') throw new NoTone('no-duration', `rtpengine cannot play to the caller's ${codec.rtpmap}`);
      return { callerSdp: answer.sdp, calledOffer: offer.sdp };
    } catch (err) {
      this.end(call.callId);
      throw err instanceof NoTone ? err : new NoTone('relay-error', (err as Error).message);
    }
  }

  /** Has the content revalidated when its resource changed in the catalog; never holds up the call, never fails it. */
  private refreshContent(resource: PresentedResource): void {
    this.catalogVersion(resource.resourceId)
      .then((version) => (version ? this.content.catalogChanged(resource.contentUri, version) : undefined))
      .catch((err: unknown) => {
        this.log.debug({ event: 'media-content', resourceId: resource.resourceId, err: (err as Error).message }, 'could not check the catalog version of a tone');
      });
  }

  private noTone(call: ToneCall, resource: PresentedResource, err: unknown): null {
    const result = err instanceof NoTone ? err.result : 'relay-error';
    this.metrics.mediaPlays.inc({ result });
    call.log.warn({ event: 'fail-open', call: 'media', result, resourceId: resource.resourceId, reason: (err as Error).message }, 'no ringback tone: the call goes on with the announcement only');
    return null;
  }
}
