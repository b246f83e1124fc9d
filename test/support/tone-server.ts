/**
 * An HTTP server on loopback serving tone content the way a content server would, and the ways
 * one fails: `/tone-48k.wav`, `/tone-44k.wav` (with an ETag, answering 304 to it), `/slow.wav`
 * (answers after `slowMs`), `/missing.wav` (404), `/big.wav` (past any small size limit),
 * `/page.html` (not audio), `/moved.wav` (a redirect to `/tone-48k.wav`), `/moved-away.wav` (a
 * redirect to another loopback address). It counts the requests for each path.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toneWav } from './rtp-audio.js';

export class ToneServer {
  readonly requests = new Map<string, number>();
  slowMs = 2000;
  private readonly pending = new Set<NodeJS.Timeout>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<ToneServer> {
    const tones: Record<string, Buffer> = { '/tone-48k.wav': toneWav(48000), '/tone-44k.wav': toneWav(44100) };
    let self: ToneServer | undefined;
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      self!.requests.set(path, (self!.requests.get(path) ?? 0) + 1);
      const tone = tones[path];
      if (tone) {
        const etag = `"${path.length}-${tone.length}"`;
        if (req.headers['if-none-match'] === etag) return res.writeHead(304, { etag }).end();
        return res.writeHead(200, { 'content-type': 'audio/wav', etag }).end(tone);
      }
      if (path === '/slow.wav') {
        const timer = setTimeout(() => {
          self!.pending.delete(timer);
          res.writeHead(200, { 'content-type': 'audio/wav' }).end(tones['/tone-48k.wav']);
        }, self!.slowMs);
        self!.pending.add(timer);
        return;
      }
      if (path === '/big.wav') return res.writeHead(200, { 'content-type': 'audio/wav' }).end(Buffer.concat([tones['/tone-48k.wav']!, Buffer.alloc(2_000_000)]));
      const port = (server.address() as AddressInfo).port;
      if (path === '/moved.wav') return res.writeHead(302, { location: '/tone-48k.wav' }).end();
      if (path === '/moved-away.wav') return res.writeHead(302, { location: `http://127.0.0.2:${port}/tone-48k.wav` }).end();
      if (path === '/page.html') return res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>not a tone</body></html>');
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new ToneServer(server);
    return self;
  }

  /** The URL of `path` on this server, by its loopback address. */
  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  async close(): Promise<void> {
    for (const timer of this.pending) clearTimeout(timer);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
