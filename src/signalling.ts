/**
 * Chooses and starts the SIP front: drachtio when `CMR_DRACHTIO_HOST` is set, else the embedded
 * proxy. Until a front exists, readiness reports the SIP front as not started.
 */
import type { Services } from './wiring.js';

export interface SignallingFront {
  readonly name: string;
  stop(): Promise<void>;
}

export async function startSignalling(services: Services): Promise<SignallingFront> {
  services.readiness.register('sip', () => false);
  return { name: 'none', stop: async () => {} };
}
