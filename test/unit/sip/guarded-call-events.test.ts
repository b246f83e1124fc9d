/** The fronts' hold on the core's call events: a failing or hanging core never fails or holds up a call. */
import { describe, expect, it } from 'vitest';
import type { CallAnnotation, CallEvents, CallStart } from '../../../src/calls/call-events.js';
import type { Identity } from '../../../src/domain/identity.js';
import { createLogger } from '../../../src/observability/logger.js';
import { GuardedCallEvents, NOTHING_PRESENTED } from '../../../sip/common/guarded-call-events.js';

const logger = createLogger({ level: 'silent', pretty: false });
const START: CallStart = { callId: 'c1@test', fromTag: 'ft', caller: 'tel:+15551230001' as Identity, called: 'tel:+15551230002' as Identity };
const PRESENTED: CallAnnotation = { toCaller: [{ resourceId: 'r-1', contentUri: 'https://media.example.net/r-1.mp3' }], toCalled: [] };

function guarded(behave: () => Promise<never> | never): GuardedCallEvents {
  const core: CallEvents = { callStarted: behave, callAnswered: behave, callEnded: behave, findCall: behave };
  return new GuardedCallEvents(core, { budgetMs: 1, logger });
}

describe('guarded call events', () => {
  it('passes the core answers through', async () => {
    const core: CallEvents = {
      callStarted: async () => PRESENTED,
      callAnswered: async () => {},
      callEnded: async () => {},
      findCall: async () => null,
    };
    expect(await new GuardedCallEvents(core, { budgetMs: 50, logger }).callStarted(START)).toEqual(PRESENTED);
  });

  it.each([
    ['rejects', () => Promise.reject(new Error('store down'))],
    ['throws', () => {
      throw new Error('bug');
    }],
    ['never answers', () => new Promise<never>(() => {})],
  ])('falls back to nothing when the core %s', async (_how, behave) => {
    const events = guarded(behave);
    expect(await events.callStarted(START)).toEqual(NOTHING_PRESENTED);
    await expect(events.callAnswered('c1@test')).resolves.toBeUndefined();
    await expect(events.callEnded('c1@test', 'bye')).resolves.toBeUndefined();
    expect(await events.findCall('c1@test', 'ft')).toBeNull();
  });
});
