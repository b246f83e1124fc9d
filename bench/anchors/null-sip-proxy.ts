/**
 * The null anchor of the embedded front: a record-routing proxy on the bare `sip` package
 * (0.0.6), with the package's own transports and transaction layer, doing what any proxy of the
 * benchmark's calls must and nothing else. An initial INVITE gets a 100 Trying, a Record-Route
 * of this proxy and is forwarded to its Request-URI; a request in the dialog has this proxy's
 * Route taken off and goes to its Request-URI; the package adds this proxy's Via on the way out
 * and each response goes back with it removed, as the package's own `proxy.js` does. No CANCEL,
 * no policy, no logging: what the CMR front costs beyond this is what CMR and its stack add.
 *
 * `proxy.js` itself is not used: it drives the package's process-wide stack (`sip.start`),
 * and its forwarding of an in-dialog request to a Route naming this host fails to resolve.
 */
import { createRequire } from 'node:module';
import { freePort, waitForListener } from '../../test/support/sip/sockets.js';

interface Uri {
  host: string;
  port?: number;
  params: Record<string, string | null>;
}

interface Via {
  /** Filled in by the package on the way out. */
  host?: string;
  port?: number | string;
  params: Record<string, string | null>;
}

interface Message {
  method?: string;
  uri: string;
  status?: number;
  headers: {
    via: Via[];
    route?: Array<{ uri: string }>;
    'record-route'?: Array<{ uri: string; params: Record<string, string> }>;
    'max-forwards'?: string | number;
    to: { params: Record<string, string | null> };
    [name: string]: unknown;
  };
}

interface Stack {
  send(message: Message, onResponse?: (response: Message) => void): void;
  destroy(): void;
}

interface BareSip {
  create(options: Record<string, unknown>, onRequest: (request: Message) => void): Stack;
  makeResponse(request: Message, status: number, reason: string): Message;
  parseUri(uri: string): Uri;
}

const sip = createRequire(import.meta.url)('sip') as BareSip;

export class NullSipProxy {
  /** SIP messages received, for waiting until the proxy goes quiet after a step. */
  handled = 0;
  private readonly stack: Stack;
  private readonly recordRoute: string;

  private constructor(
    readonly ip: string,
    readonly port: number,
  ) {
    this.recordRoute = `sip:${ip}:${port};lr`;
    this.stack = sip.create({ address: ip, port, udp: true, tcp: false }, (request) => this.onRequest(request));
  }

  /** Listening on a free UDP port of `ip`. */
  static async start(ip: string): Promise<NullSipProxy> {
    const proxy = new NullSipProxy(ip, await freePort(ip));
    await waitForListener(ip, proxy.port, 'udp');
    return proxy;
  }

  close(): void {
    this.stack.destroy();
  }

  private onRequest(request: Message): void {
    this.handled++;
    const { headers } = request;
    const maxForwards = Number(headers['max-forwards'] ?? 70);
    if (maxForwards <= 0) {
      this.stack.send(sip.makeResponse(request, 483, 'Too Many Hops'));
      return;
    }
    headers['max-forwards'] = maxForwards - 1;
    if (headers.route?.[0] && this.isThisProxy(headers.route[0].uri)) headers.route.shift();
    if (request.method === 'ACK') {
      // The package's stack sends an ACK with the Via it has: this proxy's goes on top (RFC 3261 §16.6).
      headers.via.unshift({ params: { branch: `z9hG4bK${Math.round(Math.random() * 1e9)}` } });
      this.stack.send(request);
      return;
    }
    if (request.method === 'INVITE') {
      if (headers.to.params['tag'] === undefined) headers['record-route'] = [{ uri: this.recordRoute, params: {} }, ...(headers['record-route'] ?? [])];
      this.stack.send(sip.makeResponse(request, 100, 'Trying'));
    }
    this.stack.send(request, (response) => {
      this.handled++;
      // A 100 is hop by hop; this proxy sent its own.
      if (response.status === 100) return;
      // Back to the hop below this proxy's Via. The package's own answers (a timeout, a failed
      // connection) are made from the request and share its Via list: taken off in a copy, and
      // one without a hop below goes nowhere.
      const [top, ...below] = response.headers.via;
      if (!this.isThisProxy(top) || below.length === 0) return;
      this.stack.send({ ...response, headers: { ...response.headers, via: below } });
    });
  }

  private isThisProxy(hop: string | Via | undefined): boolean {
    const address = typeof hop === 'string' ? sip.parseUri(hop) : hop;
    return address !== undefined && address.host === this.ip && Number(address.port) === this.port;
  }
}
