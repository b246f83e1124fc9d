/**
 * A small JSON client over one reused HTTP/2 session (cleartext `http://` uses h2c with prior
 * knowledge). The session is opened on first use and replaced after an error, GOAWAY or close,
 * so a restarted server is reached again on the next request; after a GOAWAY the requests already
 * sent still get their answers.
 */
import http2, { type ClientHttp2Session } from 'node:http2';

export interface JsonAnswer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

/** The request never got an answer: connection refused or lost, stream reset, or timeout. */
export class NoAnswerError extends Error {
  constructor(
    readonly reason: 'timeout' | 'connection',
    message: string,
  ) {
    super(message);
    this.name = 'NoAnswerError';
  }
}

export class Http2JsonClient {
  private session: ClientHttp2Session | null = null;
  private closed = false;

  constructor(private readonly origin: string) {}

  /** POSTs `body` as JSON; resolves with any HTTP answer, rejects with `NoAnswerError`. */
  post(path: string, body: unknown, timeoutMs: number): Promise<JsonAnswer> {
    if (this.closed) return Promise.reject(new NoAnswerError('connection', 'client closed'));
    const payload = Buffer.from(JSON.stringify(body));
    return new Promise<JsonAnswer>((resolve, reject) => {
      let settled = false;
      const finish = (err: NoAnswerError | null, answer?: JsonAnswer) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(answer!);
      };
      const timer = setTimeout(() => {
        stream?.close(http2.constants.NGHTTP2_CANCEL);
        finish(new NoAnswerError('timeout', `no answer within ${timeoutMs} ms`));
      }, timeoutMs);

      let stream: http2.ClientHttp2Stream | undefined;
      try {
        stream = this.currentSession().request({
          ':method': 'POST',
          ':path': path,
          'content-type': 'application/json',
          accept: 'application/json, application/problem+json',
          'content-length': String(payload.length),
        });
      } catch (err) {
        this.dropSession();
        finish(new NoAnswerError('connection', (err as Error).message));
        return;
      }
      let status = 0;
      let headers: Record<string, string> = {};
      const chunks: Buffer[] = [];
      stream.on('response', (h) => {
        status = Number(h[':status']);
        headers = Object.fromEntries(Object.entries(h).filter(([k]) => !k.startsWith(':')).map(([k, v]) => [k, String(v)]));
      });
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        if (status === 0) return finish(new NoAnswerError('connection', 'stream ended without a response'));
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {
          parsed = null;
        }
        finish(null, { status, body: parsed, headers });
      });
      stream.on('error', (err) => finish(new NoAnswerError('connection', err.message)));
      stream.on('close', () => {
        if (status === 0) finish(new NoAnswerError('connection', `stream closed (code ${stream?.rstCode ?? 'unknown'})`));
      });
      stream.end(payload);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const session = this.session;
    this.session = null;
    if (!session || session.closed || session.destroyed) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        session.destroy();
        resolve();
      }, 1000);
      session.close(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private currentSession(): ClientHttp2Session {
    const current = this.session;
    if (current && !current.closed && !current.destroyed) return current;
    const session = http2.connect(this.origin);
    // Errors surface on the streams; the session is simply replaced on the next request.
    session.on('error', () => this.dropSession(session));
    session.on('close', () => this.dropSession(session));
    // A server going away gracefully still answers the requests it has: new ones go to a new
    // session, this one closes once they are done (Node shuts it down after the GOAWAY).
    session.on('goaway', () => this.retire(session));
    session.unref();
    this.session = session;
    return session;
  }

  private retire(which: ClientHttp2Session): void {
    if (this.session === which) this.session = null;
  }

  private dropSession(which: ClientHttp2Session | null = this.session): void {
    if (which && this.session === which) this.session = null;
    if (which && !which.destroyed) which.destroy();
  }
}
