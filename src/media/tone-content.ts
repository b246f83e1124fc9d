/**
 * Local copies of tone content, for rtpengine to play from a file. rtpengine can open an http(s)
 * URL itself, but synchronously, with no timeout and no certificate check, so the server fetches
 * content itself: over http(s) with certificate checks (never turned off here), a timeout and a
 * size limit, only from hosts the `HostPolicy` allows, and only audio. Copies are kept by URI in
 * the cache directory with their validator (ETag / Last-Modified) and the catalog version of the
 * resource they were checked against: a new `contentUri` is fetched anew, a copy whose resource
 * changed in the catalog since (`catalogChanged`), or older than the refresh interval, is
 * revalidated (in the background: the copy is used meanwhile).
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent, request, type Dispatcher } from 'undici';
import type { Logger } from '../observability/logger.js';
import type { HostPolicy } from './host-policy.js';

/** How long a copy is used before it is revalidated with its validator. */
const REFRESH_AFTER_MS = 5 * 60_000;
const MAX_REDIRECTS = 3;

export interface ToneContentOptions {
  dir: string;
  policy: HostPolicy;
  /** How long one fetch may take (connection to last byte). */
  timeoutMs: number;
  /** Largest content accepted, bytes. */
  maxBytes: number;
  logger: Logger;
  now?: () => number;
}

interface LocalCopy {
  uri: string;
  file: string;
  etag?: string;
  lastModified?: string;
  checkedAt: number;
  /** The catalog's `updatedAt` of the resource when the copy was last checked against it. */
  catalogVersion?: string;
}

/** Why content is not there to be played. */
export class ContentUnavailable extends Error {
  override readonly name = 'ContentUnavailable';
}

export class ToneContent {
  private readonly copies = new Map<string, LocalCopy>();
  private readonly fetching = new Map<string, Promise<LocalCopy>>();
  private readonly agent: Agent;
  private readonly now: () => number;
  private readonly ready: Promise<unknown>;

  constructor(private readonly options: ToneContentOptions) {
    this.agent = new Agent({ connect: { lookup: options.policy.policyLookup, timeout: options.timeoutMs } });
    this.now = options.now ?? Date.now;
    this.ready = mkdir(options.dir, { recursive: true });
  }

  /**
   * The local file of `uri`, fetched if there is none yet. Rejects with `ContentUnavailable`
   * when it cannot be had (refused host, HTTP error, too large, not audio, timeout).
   */
  async localFile(uri: string): Promise<string> {
    const known = this.copies.get(uri) ?? (await this.fromDisk(uri));
    if (known) {
      if (this.now() - known.checkedAt > REFRESH_AFTER_MS) void this.fetchOnce(uri, known).catch(() => undefined); // keeps the copy it has
      return known.file;
    }
    return (await this.fetchOnce(uri, null)).file;
  }

  /**
   * The catalog says the resource of `uri` was last changed at `version`: a copy checked against
   * another version is revalidated (in the background; the first version seen is taken as the
   * copy's own). Resolves once that is decided, not once the fetch is done.
   */
  async catalogChanged(uri: string, version: string): Promise<void> {
    const known = this.copies.get(uri) ?? (await this.fromDisk(uri));
    if (!known || known.catalogVersion === version) return;
    const first = known.catalogVersion === undefined;
    const checked = await this.record({ ...known, catalogVersion: version });
    if (!first) void this.fetchOnce(uri, checked).catch(() => undefined);
  }

  /** Stops: fetches still under way are cut (a copy being written is left as its `.part`). */
  async close(): Promise<void> {
    await this.agent.destroy();
  }

  /** One fetch per URI at a time: concurrent calls for a new tone share it. */
  private fetchOnce(uri: string, known: LocalCopy | null): Promise<LocalCopy> {
    let pending = this.fetching.get(uri);
    if (!pending) {
      pending = this.fetch(uri, known).finally(() => this.fetching.delete(uri));
      this.fetching.set(uri, pending);
    }
    return pending;
  }

  private async fetch(uri: string, known: LocalCopy | null): Promise<LocalCopy> {
    const started = this.now();
    try {
      const response = await this.get(uri, known);
      if (response.statusCode === 304 && known) return await this.record({ ...known, checkedAt: started });
      const body = await this.read(uri, response);
      const file = join(this.options.dir, `${keyOf(uri)}${extensionOf(body)}`);
      const copy: LocalCopy = { uri, file, checkedAt: started, ...validators(response.headers), ...(known?.catalogVersion ? { catalogVersion: known.catalogVersion } : {}) };
      await this.ready;
      // Written aside and renamed: rtpengine never opens a half-written file.
      await writeFile(`${file}.part`, body);
      await rename(`${file}.part`, file);
      this.options.logger.info({ event: 'media-content', uri, bytes: body.length, ms: this.now() - started }, 'tone content fetched');
      return await this.record(copy);
    } catch (err) {
      const reason = err instanceof ContentUnavailable ? err.message : `fetch failed: ${(err as Error).message}`;
      this.options.logger.warn({ event: 'media-content', uri, reason }, 'tone content cannot be fetched: callers are not played this tone');
      throw err instanceof ContentUnavailable ? err : new ContentUnavailable(reason);
    }
  }

  /** GET with the validator of the copy held, following a few redirects (each checked by the policy). */
  private async get(uri: string, known: LocalCopy | null): Promise<Dispatcher.ResponseData> {
    let url = new URL(uri);
    const signal = AbortSignal.timeout(this.options.timeoutMs);
    for (let hop = 0; ; hop++) {
      const refusal = this.options.policy.refusal(url);
      if (refusal) throw new ContentUnavailable(`refused: ${refusal}`);
      const headers: Record<string, string> = { accept: 'audio/*' };
      if (known?.etag) headers['if-none-match'] = known.etag;
      if (known?.lastModified) headers['if-modified-since'] = known.lastModified;
      const response = await request(url, { dispatcher: this.agent, headers, signal, bodyTimeout: this.options.timeoutMs, headersTimeout: this.options.timeoutMs });
      const location = response.headers['location'];
      if (response.statusCode >= 300 && response.statusCode < 400 && response.statusCode !== 304 && typeof location === 'string') {
        await response.body.dump();
        if (hop >= MAX_REDIRECTS) throw new ContentUnavailable('too many redirects');
        url = new URL(location, url);
        continue;
      }
      if (response.statusCode !== 200 && response.statusCode !== 304) {
        await response.body.dump();
        throw new ContentUnavailable(`HTTP ${response.statusCode}`);
      }
      return response;
    }
  }

  /** The body, within the size limit, if it is a WAV or MP3 file (what rtpengine plays). */
  private async read(uri: string, response: Dispatcher.ResponseData): Promise<Buffer> {
    const type = String(response.headers['content-type'] ?? '');
    const declared = Number(response.headers['content-length'] ?? 0);
    if (declared > this.options.maxBytes) {
      await response.body.dump();
      throw new ContentUnavailable(`too large: ${declared} bytes, at most ${this.options.maxBytes}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > this.options.maxBytes) {
        response.body.destroy();
        throw new ContentUnavailable(`too large: over ${this.options.maxBytes} bytes`);
      }
      chunks.push(chunk);
    }
    const body = Buffer.concat(chunks);
    if (extensionOf(body) === '') throw new ContentUnavailable(`not a WAV or MP3 file (${type || 'no type'}) at ${uri}`);
    return body;
  }

  private keep(copy: LocalCopy): LocalCopy {
    this.copies.set(copy.uri, copy);
    return copy;
  }

  /** Keeps the copy and writes its index file (what a restarted server finds). */
  private async record(copy: LocalCopy): Promise<LocalCopy> {
    await this.ready;
    await writeFile(this.indexFile(copy.uri), JSON.stringify(copy));
    return this.keep(copy);
  }

  /** A copy left by an earlier run of the server. */
  private async fromDisk(uri: string): Promise<LocalCopy | null> {
    try {
      const copy = JSON.parse(await readFile(this.indexFile(uri), 'utf8')) as LocalCopy;
      return copy.uri === uri ? this.keep(copy) : null;
    } catch {
      return null;
    }
  }

  private indexFile(uri: string): string {
    return join(this.options.dir, `${keyOf(uri)}.json`);
  }
}

function keyOf(uri: string): string {
  return createHash('sha256').update(uri).digest('hex').slice(0, 32);
}

/** `.wav` or `.mp3` by the content's own signature (what rtpengine's decoder goes by), else ''. */
function extensionOf(body: Buffer): string {
  if (body.length >= 12 && body.toString('latin1', 0, 4) === 'RIFF' && body.toString('latin1', 8, 12) === 'WAVE') return '.wav';
  if (body.length >= 3 && body.toString('latin1', 0, 3) === 'ID3') return '.mp3';
  if (body.length >= 2 && body[0] === 0xff && (body[1]! & 0xe0) === 0xe0) return '.mp3';
  return '';
}

function validators(headers: Dispatcher.ResponseData['headers']): Pick<LocalCopy, 'etag' | 'lastModified'> {
  const etag = headers['etag'];
  const lastModified = headers['last-modified'];
  return { ...(typeof etag === 'string' ? { etag } : {}), ...(typeof lastModified === 'string' ? { lastModified } : {}) };
}
