/**
 * Call events that present nothing and remember nothing: the front behaves as a plain
 * record-routing proxy (or B2BUA). Used when CMR selection is switched off (the benchmark
 * baseline), and as the stand-in until a presentation service is wired.
 */
import type { CallAnnotation, CallEvents } from './call-events.js';

const NOTHING: CallAnnotation = Object.freeze({ toCaller: [], toCalled: [] });

export const unannotatedCalls: CallEvents = {
  callStarted: async () => NOTHING,
  callAnswered: async () => {},
  callEnded: async () => {},
  findCall: async () => null,
};
