/**
 * Activity records: a user's history, the SP's feed (`after` a cursor) and the same feed live as
 * Server-Sent Events, resumable with `Last-Event-ID` (each event's id is a cursor, the opening
 * `position` event's too).
 */
import type { ServerResponse } from 'node:http';
import { Type } from 'typebox';
import { CmrError } from '../../../domain/errors.js';
import { checkCursor, compareCursors, type FeedItem } from '../../../activity/activity-feed.js';
import type { App } from '../../app.js';
import type { Services } from '../../../wiring.js';
import { ActivityPage, ActivityRecord, FeedQuery, StreamQuery } from '../../schemas/charging.js';
import { PageQuery, UidParams } from '../../schemas/common.js';

const HEARTBEAT_MS = 15_000;
const REPLAY_PAGE = 500;

export async function activityRoutes(app: App, { activityFeed }: Services): Promise<void> {
  app.addSchema(ActivityRecord);
  const tags = ['activity'];
  const openStreams = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const stream of openStreams) stream.end();
  });

  app.get(
    '/users/:uid/activities',
    {
      config: { access: 'self' },
      schema: { tags, operationId: 'listUserActivities', summary: "A user's activities, newest first", params: UidParams, querystring: PageQuery, response: { 200: ActivityPage } },
    },
    async (request) => activityFeed.forUser(request.uid, request.query.limit ?? 50, request.query.cursor),
  );

  app.get(
    '/activities',
    {
      config: { access: 'sp' },
      schema: {
        tags,
        operationId: 'listActivities',
        summary: 'The activity feed, oldest first after a cursor',
        description: 'Poll with `after` set to the `next` of the previous answer to read every record once, in order.',
        querystring: FeedQuery,
        response: { 200: ActivityPage },
      },
    },
    async (request) => activityFeed.after(request.query.after, request.query.limit ?? 100),
  );

  app.get(
    '/activities/stream',
    {
      config: { access: 'sp' },
      schema: {
        tags,
        operationId: 'streamActivities',
        summary: 'The activity feed as Server-Sent Events',
        description:
          'The stream opens with a `position` event whose id is the cursor it follows from (`Last-Event-ID` or `?after=` when given, else the newest record); then each record is an `activity` event whose id is its cursor. Reconnect with `Last-Event-ID` set to the last id received (a `position` included) to receive every record after it, once. The request must accept `text/event-stream` (`*/*` will do; 406 without an Accept header).',
        querystring: StreamQuery,
        produces: ['text/event-stream'],
        response: {
          200: {
            description:
              'The stream: a `retry` hint, a `position` event (id: the cursor it follows from; data: `{"cursor": …}`), then one `activity` event per record (id: its cursor; data: the record as JSON), and a comment every 15 s to keep it open',
            content: {
              'text/event-stream': {
                schema: Type.String({
                  examples: [
                    'retry: 2000\n\nid: 1733097599000-0\nevent: position\ndata: {"cursor":"1733097599000-0"}\n\nid: 1733097600000-0\nevent: activity\ndata: {"id":"act-01JBX7Q2M4","kind":"subscribe","actor":"tel:+15551230001"}\n\n',
                  ],
                }),
              },
            },
          },
          406: Type.Ref('Problem'),
        },
      },
    },
    async (request, reply) => {
      // `*/*` and `text/*` include event streams; a request naming no Accept at all is refused, so
      // a client that did not mean to open an endless stream is not left hanging on one.
      if (!/(^|,)\s*(text\/event-stream|text\/\*|\*\/\*)\s*(;|,|$)/i.test(request.headers.accept ?? '')) {
        throw new CmrError('not-acceptable', 'this endpoint sends Server-Sent Events: send Accept: text/event-stream');
      }
      const header = request.headers['last-event-id'];
      const asked = (typeof header === 'string' && header.trim()) || request.query.after;
      if (asked) checkCursor(asked);
      let live = false;
      const buffered: FeedItem[] = [];
      const raw = reply.raw;
      const unfollow = await activityFeed.follow((items) => {
        if (live) items.forEach(send);
        else buffered.push(...items);
      });
      // Followed from here on: a stream opened without a cursor starts after the newest record, and
      // says so, so a client that loses it before any record arrives resumes from there.
      const from = asked || (await activityFeed.newest().catch((err: unknown) => {
        unfollow();
        throw err;
      }));
      let lastSent = from;
      const send = (item: FeedItem) => {
        if (compareCursors(item.cursor, lastSent) <= 0) return;
        raw.write(`id: ${item.cursor}\nevent: activity\ndata: ${JSON.stringify(item.record)}\n\n`);
        lastSent = item.cursor;
      };

      reply.hijack();
      // The stream is written raw: the headers the app's hooks set so far (CORS, security, rate
      // limit) are sent with it, as on every other answer.
      for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) raw.setHeader(name, value);
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-request-id': request.id,
      });
      raw.write(`retry: 2000\n\nid: ${from}\nevent: position\ndata: ${JSON.stringify({ cursor: from })}\n\n`);
      openStreams.add(raw);
      const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
      raw.on('close', () => {
        clearInterval(heartbeat);
        unfollow();
        openStreams.delete(raw);
      });

      try {
        for (let cursor: string | undefined = from; cursor; ) {
          const page = await activityFeed.after(cursor, REPLAY_PAGE);
          page.items.forEach(send);
          cursor = page.items.length === REPLAY_PAGE ? (page.next ?? undefined) : undefined;
        }
        buffered.splice(0).forEach(send);
        live = true;
      } catch (err) {
        request.log.warn({ err: (err as Error).message }, 'activity stream replay failed');
        raw.end();
      }
    },
  );
}
