/**
 * rtpengine's ng control, as the media port uses it: every command bounded by the command
 * timeout (a UDP command to a dead rtpengine gets no error, only silence), errors as rejections,
 * and rtpengine's health kept by a ping, so that a call never waits on a relay known to be down.
 */
import rtpengine, { type NgMessage, type NgReply, type NgTarget } from 'rtpengine-client';
import type { Logger } from '../observability/logger.js';

/** How often rtpengine is pinged: a relay that comes back is used again within this. */
const PING_INTERVAL_MS = 1000;

export type NgCommand = 'offer' | 'answer' | 'delete' | 'query' | 'playMedia' | 'stopMedia' | 'blockMedia' | 'unblockMedia';

export interface RtpengineRelayOptions {
  target: NgTarget;
  /** How long one command may go unanswered before it counts as failed (and the relay as down). */
  timeoutMs: number;
  logger: Logger;
}

/** A command rtpengine answered with `result: error`, or did not answer in time. */
export class RelayError extends Error {
  override readonly name = 'RelayError';
}

export class RtpengineRelay {
  private readonly client: InstanceType<typeof rtpengine.Client>;
  private up = false;
  private pinger: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly options: RtpengineRelayOptions) {
    this.client = new rtpengine.Client({ timeout: options.timeoutMs, rejectOnError: true });
    // A late reply to a timed-out command, or a socket error: logged, never thrown at the process.
    this.client.on('error', (err: unknown) => {
      this.options.logger.debug({ event: 'rtpengine', err: String((err as Error)?.message ?? err) }, 'rtpengine control message not taken');
    });
  }

  /** Whether rtpengine answered its last ping and no command has timed out since. */
  get isUp(): boolean {
    return this.up;
  }

  /** Pings at once (resolves when that ping is answered or timed out), then keeps pinging. */
  async start(): Promise<void> {
    await this.ping();
    if (this.closed) return;
    this.pinger = setInterval(() => void this.ping(), PING_INTERVAL_MS);
    this.pinger.unref();
  }

  /** One ng command; rejects with `RelayError` on an error reply or past the timeout. */
  async command(name: NgCommand, message: NgMessage): Promise<NgReply> {
    try {
      return await this.client[name](this.options.target, message);
    } catch (err) {
      throw this.failed(name, err);
    }
  }

  close(): void {
    this.closed = true;
    if (this.pinger) clearInterval(this.pinger);
    this.client.close();
  }

  private async ping(): Promise<void> {
    try {
      const reply = await this.client.ping(this.options.target);
      this.setUp(reply.result === 'pong');
    } catch (err) {
      this.failed('ping', err);
    }
  }

  private failed(name: string, err: unknown): RelayError {
    const reason = err instanceof Error ? err.message : String(err);
    // Only silence says the relay is gone; an error reply comes from a relay that is there.
    if (reason.startsWith('rtpengine timeout')) this.setUp(false);
    return new RelayError(`rtpengine ${name}: ${reason}`);
  }

  private setUp(up: boolean): void {
    if (up === this.up) return;
    this.up = up;
    const { host, port } = this.options.target;
    if (up) this.options.logger.info({ event: 'rtpengine', host, port }, 'rtpengine answers: ringback tones on');
    else this.options.logger.warn({ event: 'rtpengine', host, port }, 'rtpengine does not answer: calls go on without ringback tones');
  }
}
