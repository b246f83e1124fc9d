/**
 * What is presenting on calls: the preview of a call (`/users/{uid}/presentation`), a call by its
 * Call-ID and the count of calls presenting now (SP), and a user's live calls.
 */
import { Type } from 'typebox';
import { CmrError } from '../../../domain/errors.js';
import { parseIdentity } from '../../../domain/identity.js';
import type { Services } from '../../../wiring.js';
import type { App } from '../../app.js';
import { CallIdParams, CallsSummary, PresentationPreview, PresentedResource, PresentingSession, PreviewQuery } from '../../schemas/calls.js';
import { UidParams } from '../../schemas/common.js';

export async function callRoutes(app: App, { calls, config }: Services): Promise<void> {
  app.addSchema(PresentedResource);
  app.addSchema(PresentingSession);
  app.addSchema(PresentationPreview);

  app.get(
    '/users/:uid/calls/current',
    {
      config: { access: 'self' },
      schema: {
        tags: ['calls'],
        operationId: 'listCurrentCalls',
        summary: "The user's live calls and what they present",
        description: 'Calls being set up or answered, most recent first, with what is presented to each party.',
        params: UidParams,
        response: { 200: Type.Array(Type.Ref('PresentingSession')) },
      },
    },
    async (request) => calls.currentCalls(request.uid),
  );

  app.get(
    '/users/:uid/presentation',
    {
      config: { access: 'self' },
      schema: {
        tags: ['presentation'],
        operationId: 'previewPresentation',
        summary: 'Preview what a call would present to its caller',
        description:
          "What a call from `caller` to the user at `at` would present to the caller: the user's rules, default, library and boxes, " +
          "the caller's filters and the user's privacy, read in the user's time zone. Nothing changes: a sequential box shows its next " +
          'item, a random box one possible draw.',
        params: UidParams,
        querystring: PreviewQuery,
        response: { 200: Type.Ref('PresentationPreview') },
      },
    },
    async (request) => {
      const caller = parseIdentity(request.query.caller);
      if (!caller.ok) throw new CmrError('bad-identity', `caller: ${caller.reason}`);
      const at = request.query.at === undefined ? undefined : new Date(request.query.at);
      if (at && Number.isNaN(at.getTime())) throw new CmrError('validation-failed', 'at: must be an ISO 8601 date-time');
      return calls.preview(request.uid, caller.identity, at);
    },
  );

  app.get(
    '/calls',
    {
      config: { access: 'sp' },
      schema: {
        tags: ['calls'],
        operationId: 'countPresentingCalls',
        summary: 'How many calls are presenting now',
        description: 'Counts the live calls that present something to the caller or the called party; a call leaves the count when it ends.',
        response: { 200: CallsSummary },
      },
    },
    async () => ({ presenting: await calls.presentingNow() }),
  );

  app.get(
    '/calls/:callId',
    {
      config: { access: 'sp' },
      schema: {
        tags: ['calls'],
        operationId: 'getCall',
        summary: 'Read the presenting session of a call',
        description: `A live call, or one that ended less than ${config.sessions.graceSec} s ago (the grace period).`,
        params: CallIdParams,
        response: { 200: Type.Ref('PresentingSession') },
      },
    },
    async (request) => {
      const session = await calls.getCall(request.params.callId);
      if (!session) throw new CmrError('not-found', `no live or recent call ${request.params.callId}`);
      return session;
    },
  );
}
