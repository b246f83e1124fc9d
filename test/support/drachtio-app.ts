/**
 * A server instance running the drachtio front against a `DrachtioPeer`: real services on the
 * real Redis (fresh namespace unless shared), started through `startSignalling` as in production.
 */
import type { Config } from '../../src/config/config.js';
import { createLogger } from '../../src/observability/logger.js';
import { DrachtioFront } from '../../sip/drachtio/drachtio-front.js';
import { startSignalling, type CorePorts } from '../../src/signalling.js';
import { createServices, type Services } from '../../src/wiring.js';
import { deleteNamespace, testConfig } from './context.js';
import type { AppConnection, DrachtioPeer } from './drachtio-peer.js';

export const PEER_SECRET = 'peer-secret';

export interface DrachtioApp<P extends CorePorts> {
  config: Config;
  services: Services;
  ports: P;
  front: DrachtioFront;
  /** The app's connection as the peer sees it. */
  connection: AppConnection;
  /** The `sip` readiness check. */
  sipReady(): Promise<boolean>;
  close(): Promise<void>;
}

export async function startDrachtioApp<P extends CorePorts>(
  peer: DrachtioPeer,
  makePorts: (services: Services) => P,
  env: Record<string, string> = {},
): Promise<DrachtioApp<P>> {
  const config = testConfig({
    CMR_DRACHTIO_HOST: '127.0.0.1',
    CMR_DRACHTIO_PORT: String(peer.port),
    CMR_DRACHTIO_SECRET: PEER_SECRET,
    // A test that fails mid-call should not hold its teardown for the production drain limit.
    CMR_DRAIN_TIMEOUT_MS: '2000',
    ...env,
  });
  const services = await createServices(config, createLogger(config.log));
  const ports = makePorts(services);
  const connecting = peer.nextConnection();
  const front = await startSignalling(services, ports);
  if (!(front instanceof DrachtioFront)) throw new Error(`expected the drachtio front, got ${front.name}`);
  const connection = await connecting;
  const sipReady = async () => (await services.readiness.report()).checks['sip'] === true;
  await until(sipReady, 'the front reports ready');
  return {
    config,
    services,
    ports,
    front,
    connection,
    sipReady,
    close: async () => {
      await front.stop();
      if (services.redis.status === 'ready') await deleteNamespace(services.redis, config.redis.namespace);
      await services.close();
    },
  };
}

/** Polls `condition` until it holds or `timeoutMs` passes (for effects with no event to await). */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
