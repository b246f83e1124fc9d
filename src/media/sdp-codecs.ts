/**
 * The little of SDP (RFC 4566) the media port reads and writes: the audio codecs of an offer,
 * and the answer of the placeholder far end that lets rtpengine answer the caller before the
 * called party has.
 */

export interface AudioCodec {
  payloadType: number;
  /** `PCMU/8000`, `opus/48000/2`… as in `a=rtpmap`. */
  rtpmap: string;
}

/** Static payload types (RFC 3551) an offer may use without `a=rtpmap`. */
const STATIC: Record<number, string> = { 0: 'PCMU/8000', 3: 'GSM/8000', 8: 'PCMA/8000', 9: 'G722/8000', 18: 'G729/8000' };
/** Payload formats that carry no sound of their own. */
const NOT_SOUND = new Set(['telephone-event', 'cn', 'red', 'ulpfec', 'rtx']);

/** The first codec of the first audio stream that carries sound, or null (no audio stream). */
export function firstSoundCodec(sdp: string): AudioCodec | null {
  const lines = sdp.split(/\r?\n/);
  const media = lines.findIndex((line) => line.startsWith('m=audio '));
  if (media < 0) return null;
  const end = lines.findIndex((line, i) => i > media && line.startsWith('m='));
  const section = lines.slice(media + 1, end < 0 ? undefined : end);
  const rtpmaps = new Map<number, string>();
  for (const line of section) {
    const m = /^a=rtpmap:(\d+) (\S+)/.exec(line);
    if (m) rtpmaps.set(Number(m[1]), m[2]!);
  }
  for (const format of lines[media]!.trim().split(/\s+/).slice(3)) {
    const payloadType = Number(format);
    const rtpmap = rtpmaps.get(payloadType) ?? STATIC[payloadType];
    if (rtpmap && !NOT_SOUND.has(rtpmap.split('/')[0]!.toLowerCase())) return { payloadType, rtpmap };
  }
  return null;
}

/**
 * The answer of a far end that is not there yet: `codec` only, media toward the discard port
 * (RFC 863) of rtpengine's own loopback, so nothing the caller sends goes anywhere meanwhile.
 */
export function placeholderAnswer(codec: AudioCodec): string {
  return [
    'v=0',
    'o=- 1 1 IN IP4 127.0.0.1',
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio 9 RTP/AVP ${codec.payloadType}`,
    `a=rtpmap:${codec.payloadType} ${codec.rtpmap}`,
    'a=sendrecv',
    '',
  ].join('\r\n');
}
