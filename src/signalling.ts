/**
 * Chooses and starts the SIP front: drachtio when `CMR_DRACHTIO_HOST` is set, else the embedded
 * proxy. Both get the same core ports: call events (presentation) and the copy port (INFO).
 */
import { startDrachtioFront } from '../sip/drachtio/drachtio-front.js';
import { startEmbeddedFront } from '../sip/embedded/embedded-front.js';
import type { CallEvents } from './calls/call-events.js';
import type { SipCopyPort } from './copy/sip-copy-port.js';
import { startMediaPort } from './media/media.js';
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
  if (services.config.drachtio) return startDrachtio(services, services.config.drachtio, ports);
  return startEmbedded(services, ports);
}

/** The drachtio front (inbound or outbound mode); ready while connected or listening and not draining. */
async function startDrachtio(services: Services, drachtio: NonNullable<Services['config']['drachtio']>, ports: CorePorts): Promise<SignallingFront> {
  // The catalog version of a tone's resource, so its local copy is refreshed when the SP changes it.
  const catalogVersion = async (id: string) => (await services.catalog.getMany([id])).get(id)?.updatedAt ?? null;
  const media = await startMediaPort(services.config.media, services.logger, services.metrics, catalogVersion);
  if (media) services.onClose(() => media.close());
  const front = await startDrachtioFront({
    drachtio,
    sip: services.config.sip,
    logger: services.logger,
    metrics: services.metrics,
    redis: services.redis,
    keys: services.keys,
    calls: ports.calls,
    copy: ports.copy,
    load: services.load,
    media,
  });
  services.readiness.register('sip', () => front.ready);
  return front;
}

/** The embedded proxy on `CMR_SIP_HOST:CMR_SIP_PORT`; ready once it listens. */
async function startEmbedded(services: Services, ports: CorePorts): Promise<SignallingFront> {
  const { config } = services;
  if (config.media.rtpengine) {
    // A proxy never answers the caller itself, so it has no early dialog of its own to play a tone in (RFC 3960).
    services.logger.warn({ event: 'media' }, 'CMR_RTPENGINE is set but the embedded front is a proxy and cannot play ringback tones: use the drachtio front');
  }
  const front = await startEmbeddedFront({
    sip: config.sip,
    maxCallSec: config.sessions.maxCallSec,
    logger: services.logger,
    metrics: services.metrics,
    calls: ports.calls,
    copy: ports.copy,
    load: services.load,
    redis: services.redis,
    keys: services.keys,
    auth: config.auth,
  });
  services.readiness.register('sip', () => front.listening);
  return front;
}
