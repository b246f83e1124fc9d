/** Builds the media port from the configuration: null when no rtpengine is configured. */
import type { Config } from '../config/config.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { HostPolicy } from './host-policy.js';
import type { MediaPort } from './media-port.js';
import { RtpengineMedia } from './rtpengine-media.js';
import { RtpengineRelay } from './rtpengine-relay.js';
import { ToneContent } from './tone-content.js';

/**
 * The media port on rtpengine, its health known (first ping answered or timed out) before it
 * takes a call. `catalogVersion` gives a resource's catalog `updatedAt`, so a tone's copy is
 * refreshed when its resource changes.
 */
export async function startMediaPort(
  config: Config['media'],
  logger: Logger,
  metrics: Metrics,
  catalogVersion?: (resourceId: string) => Promise<string | null>,
): Promise<MediaPort | null> {
  if (!config.rtpengine) return null;
  const log = logger.child({ part: 'media' });
  const relay = new RtpengineRelay({ target: config.rtpengine, timeoutMs: config.timeoutMs, logger: log });
  const content = new ToneContent({
    dir: config.cacheDir,
    policy: new HostPolicy(config.allowHosts),
    timeoutMs: config.fetchTimeoutMs,
    maxBytes: config.maxBytes,
    logger: log,
  });
  await relay.start();
  return new RtpengineMedia(relay, content, metrics, log, catalogVersion);
}
