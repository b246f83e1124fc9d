/**
 * A SIP.js 0.21 handset in Node: WebSocket from `ws`, and a session description handler that
 * offers and accepts a fixed audio SDP without any media.
 */
import { WebSocket } from 'ws';
import { UserAgent, type SessionDescriptionHandler } from 'sip.js';

Object.assign(globalThis, { WebSocket });

const SDP = ['v=0', 'o=handset 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=audio 9 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ''].join('\r\n');

class SilentMedia implements SessionDescriptionHandler {
  close(): void {}
  async getDescription(): Promise<{ body: string; contentType: string }> {
    return { body: SDP, contentType: 'application/sdp' };
  }
  hasDescription(contentType: string): boolean {
    return contentType === 'application/sdp';
  }
  async setDescription(): Promise<void> {}
  sendDtmf(): boolean {
    return false;
  }
}

export async function startHandset(identity: string, server: { ip: string; wsPort: number }): Promise<UserAgent> {
  const uri = UserAgent.makeURI(identity);
  if (!uri) throw new Error(`bad handset identity ${identity}`);
  const ua = new UserAgent({
    uri,
    transportOptions: { server: `ws://${server.ip}:${server.wsPort}` },
    sessionDescriptionHandlerFactory: () => new SilentMedia(),
    logBuiltinEnabled: false,
  });
  await ua.start();
  return ua;
}
