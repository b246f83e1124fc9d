/**
 * Audio on the wire for the media tests: tone fixtures made here (a chirp, so that one place in
 * it matches and no other), the parties' media as UDP sockets that send and collect RTP, G.711
 * μ-law decoding, and the correlation of what was heard with what was played.
 */
import { createSocket, type Socket } from 'node:dgram';

/** The tone's sound at `t` seconds: a chirp from 300 to 3000 Hz over each second (within the 8 kHz telephone band). */
function toneAt(t: number): number {
  const s = t % 1;
  return 0.5 * Math.sin(2 * Math.PI * (300 * s + 1350 * s * s));
}

/** A one-second mono 16-bit PCM WAV of the tone at `rate` Hz (44.1/48 kHz: rtpengine paces those evenly). */
export function toneWav(rate: number): Buffer {
  const samples = rate;
  const wav = Buffer.alloc(44 + samples * 2);
  wav.write('RIFF', 0, 'latin1');
  wav.writeUInt32LE(36 + samples * 2, 4);
  wav.write('WAVEfmt ', 8, 'latin1');
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20);
  wav.writeUInt16LE(1, 22);
  wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(rate * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write('data', 36, 'latin1');
  wav.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) wav.writeInt16LE(Math.round(toneAt(i / rate) * 32767), 44 + i * 2);
  return wav;
}

/** G.711 μ-law to linear (ITU-T G.711). */
export function decodeMulaw(payload: Buffer): number[] {
  return [...payload].map((byte) => {
    const u = ~byte & 0xff;
    const magnitude = ((((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4)) - 0x84;
    return u & 0x80 ? -magnitude : magnitude;
  });
}

/**
 * How well PCMU packets match the tone: each packet's decoded samples placed where its RTP
 * timestamp (8 kHz) puts them, the highest normalised correlation over every alignment of one
 * second of the tone (it repeats). A packet lost on the way leaves a gap, not a shift.
 */
export function correlationWithTone(packets: readonly RtpPacket[]): number {
  const reference = Array.from({ length: 8000 }, (_, i) => toneAt(i / 8000));
  const base = packets[0]?.timestamp ?? 0;
  const heard: number[] = [];
  const at: number[] = [];
  for (const packet of packets) {
    const offset = (packet.timestamp - base) >>> 0;
    decodeMulaw(packet.payload).forEach((sample, i) => {
      heard.push(sample);
      at.push((offset + i) % 8000);
    });
  }
  let best = -1;
  for (let lag = 0; lag < 8000; lag++) {
    let xy = 0;
    let xx = 0;
    let yy = 0;
    for (let i = 0; i < heard.length; i++) {
      const x = heard[i]!;
      const y = reference[(lag + at[i]!) % 8000]!;
      xy += x * y;
      xx += x * x;
      yy += y * y;
    }
    if (xx > 0 && yy > 0) best = Math.max(best, xy / Math.sqrt(xx * yy));
  }
  return best;
}

export interface RtpPacket {
  at: number;
  payloadType: number;
  sequence: number;
  timestamp: number;
  payload: Buffer;
  from: number;
}

function parseRtp(message: Buffer, at: number, from: number): RtpPacket | null {
  if (message.length < 12 || message[0]! >> 6 !== 2) return null;
  const csrcs = message[0]! & 0x0f;
  let offset = 12 + csrcs * 4;
  if (message[0]! & 0x10) offset += 4 + message.readUInt16BE(offset + 2) * 4;
  return { at, payloadType: message[1]! & 0x7f, sequence: message.readUInt16BE(2), timestamp: message.readUInt32BE(4), payload: message.subarray(offset), from };
}

/** One party's media: a UDP socket on loopback that collects the RTP sent to it and sends its own. */
export class MediaParty {
  readonly packets: RtpPacket[] = [];
  private sequence = 1;
  private readonly waiters: Array<() => void> = [];

  private constructor(private readonly socket: Socket) {
    socket.on('message', (message, remote) => {
      const packet = parseRtp(message, performance.now(), remote.port);
      if (!packet) return; // RTCP
      this.packets.push(packet);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  static async open(): Promise<MediaParty> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return new MediaParty(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** An SDP offer or answer for this party (PCMU, and what else is given). */
  sdp(payloadTypes = '0', extra: string[] = []): string {
    return ['v=0', `o=- ${this.port} 1 IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${this.port} RTP/AVP ${payloadTypes}`, ...extra, 'a=sendrecv', ''].join('\r\n');
  }

  /** Resolves once `count` packets have come in (in all). */
  async received(count: number, timeoutMs = 3000): Promise<RtpPacket[]> {
    const deadline = performance.now() + timeoutMs;
    while (this.packets.length < count) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`${this.packets.length} RTP packets came to port ${this.port}, ${count} awaited`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.packets.slice(0, count);
  }

  /** Sends one 20 ms PCMU packet with `payload` (160 bytes) to `port` on loopback. */
  send(port: number, payload: Buffer): Promise<void> {
    const header = Buffer.alloc(12);
    header[0] = 0x80;
    header[1] = 0;
    header.writeUInt16BE(this.sequence & 0xffff, 2);
    header.writeUInt32BE(this.sequence * 160, 4);
    header.writeUInt32BE(this.port, 8);
    this.sequence++;
    return new Promise((resolve, reject) => this.socket.send(Buffer.concat([header, payload]), port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

/** The media port of an SDP's first audio stream. */
export function audioPort(sdp: string): number {
  const m = /^m=audio (\d+) /m.exec(sdp);
  if (!m) throw new Error(`no audio stream in ${sdp}`);
  return Number(m[1]);
}

/** The connection address of an SDP. */
export function connectionAddress(sdp: string): string {
  const m = /^c=IN IP[46] (\S+)/m.exec(sdp);
  if (!m) throw new Error(`no connection line in ${sdp}`);
  return m[1]!;
}

