/** A copy port that treats every INFO as not-a-copy: copying switched off, INFO passes through. */
import type { SipCopyPort } from './sip-copy-port.js';

export const passThroughCopy: SipCopyPort = { handleInfo: async () => null };
