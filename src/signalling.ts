/**
 * Chooses and starts the SIP front: drachtio when `CMR_DRACHTIO_HOST` is set, else the embedded
 * proxy. Both get the same core ports: call events (presentation) and the copy port (INFO).
 */
import { startDrachtioFront } from '../sip/drachtio/drachtio-front.js';
import type { CallEvents } from './calls/call-events.js';
import type { SipCopyPort } from './copy/sip-copy-port.js';
import type { Services } from './wiring.js';

export interface SignallingFront {
  readonly name: string;
  stop(): Promise<void>;
}

export interface CorePorts {
  calls: CallEvents;
  copy: SipCopyPort;
}

export async function startSignalling(services: Services, ports: CorePorts): Promise<SignallingFront> {
  if (services.config.drachtio) {
    return startDrachtioFront(services, ports);
  }
  services.readiness.register('sip', () => false);
  return { name: 'none', stop: async () => {} };
}
