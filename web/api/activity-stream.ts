/**
 * The SP's live activity feed in a page. `GET /v1/activities/stream` sends Server-Sent Events
 * whose ids are feed cursors; an `EventSource` cannot send the bearer token, so the stream is read
 * with a streaming `fetch` and parsed with eventsource-parser. The stream opens with a `position`
 * event (the cursor it follows from), then sends records. When the connection drops, it
 * reconnects after the server's `retry` delay with `Last-Event-ID` set to the last id seen (the
 * position, when no record came yet), so the server replays everything after it: nothing is lost,
 * even before the first record, and nothing is shown twice.
 */
import { createParser } from 'eventsource-parser';
import { problemDetail, type Schemas } from './client';

export interface FeedItem {
  cursor: string;
  record: Schemas['ActivityRecord'];
}

export type StreamState = { kind: 'connecting' } | { kind: 'live' } | { kind: 'reconnecting'; reason: string } | { kind: 'refused'; reason: string };

export interface FollowOptions {
  token: string;
  onItem(item: FeedItem): void;
  onState(state: StreamState): void;
  /** 401: the token is no longer accepted (the page signs out). */
  onRefused(reason: string): void;
}

const FIRST_RETRY_MS = 1000;
const LONGEST_RETRY_MS = 30_000;

/** Follows the feed from now on until the answered function is called. */
export function followActivity(options: FollowOptions): () => void {
  const stop = new AbortController();
  let lastCursor: string | null = null;
  let retryMs = FIRST_RETRY_MS;
  let failures = 0;

  const connectOnce = async (): Promise<string> => {
    if (!lastCursor) options.onState({ kind: 'connecting' });
    const headers: Record<string, string> = { authorization: `Bearer ${options.token}`, accept: 'text/event-stream' };
    if (lastCursor) headers['last-event-id'] = lastCursor;
    const response = await fetch(`${location.origin}/v1/activities/stream`, { headers, signal: stop.signal, cache: 'no-store' });
    if (response.status === 401) {
      const reason = await problemDetail(response);
      options.onRefused(reason);
      throw new Refused(reason);
    }
    if (!response.ok || !response.body) throw new Error(await problemDetail(response));
    options.onState({ kind: 'live' });
    failures = 0;
    const parser = createParser({
      onEvent(event) {
        if (!event.id) return;
        lastCursor = event.id;
        if (event.event === 'activity') options.onItem({ cursor: event.id, record: JSON.parse(event.data) as FeedItem['record'] });
      },
      onRetry(ms) {
        retryMs = ms;
      },
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return 'the server closed the stream';
      parser.feed(value);
    }
  };

  void (async () => {
    while (!stop.signal.aborted) {
      let reason: string;
      try {
        reason = await connectOnce();
      } catch (err) {
        if (stop.signal.aborted) return;
        if (err instanceof Refused) {
          options.onState({ kind: 'refused', reason: err.message });
          return;
        }
        reason = (err as Error).message || 'the connection was lost';
        failures += 1;
      }
      if (stop.signal.aborted) return;
      options.onState({ kind: 'reconnecting', reason });
      // The server's delay after a drop; longer and longer while connecting keeps failing.
      await pause(Math.min(retryMs * 2 ** Math.max(0, failures - 1), LONGEST_RETRY_MS), stop.signal);
    }
  })();
  return () => stop.abort();
}

class Refused extends Error {}

const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
