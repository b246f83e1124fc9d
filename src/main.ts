/**
 * Server entry: configuration, logging, services, the REST app and the SIP front.
 * SIGTERM/SIGINT: stop taking new work, finish what is in flight, close Redis, exit.
 */
import closeWithGrace from 'close-with-grace';
import { ConfigError, describeConfig, loadConfig, type Config } from './config/config.js';
import { buildApp } from './http/app.js';
import { createLogger } from './observability/logger.js';
import { startSignalling } from './signalling.js';
import { createServices } from './wiring.js';

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`cmr-server: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = createLogger(config.log);
  if (config.auth.usingDefaultSecret) {
    logger.warn({ event: 'config' }, 'CMR_JWT_SECRET is not set: using the development secret; set it in production');
  }
  logger.info({ event: 'starting', config: describeConfig(config) }, 'starting cmr-server');

  const services = await createServices(config, logger, { defaultMetrics: true });
  const app = await buildApp(services);
  const sipSettings = config.drachtio
    ? `CMR_DRACHTIO_HOST/CMR_DRACHTIO_PORT (${config.drachtio.host}:${config.drachtio.port})`
    : `CMR_SIP_HOST/CMR_SIP_PORT (${config.sip.host}:${config.sip.port})`;
  const signalling = await naming(sipSettings, () => startSignalling(services, { calls: services.calls, copy: services.sipCopy }));
  let url: string;
  try {
    url = await naming(`CMR_HTTP_HOST/CMR_HTTP_PORT (${config.http.host}:${config.http.port})`, () => app.listen({ host: config.http.host, port: config.http.port }));
  } catch (err) {
    await signalling.stop();
    throw err;
  }
  services.load.measureFromNow();
  // What a newcomer looks for first: where the API is described, and how to call it.
  logger.info(
    { event: 'ready', docs: `${url}/docs`, openapi: `${url}/openapi.json`, portal: `${url}/portal/`, token: 'npm run -s token -- --sub <identity> [--role sp] [--portal]' },
    `ready: API documentation at ${url}/docs; a token for a user: npm run -s token -- --sub tel:+15551230001 (the SP: --sub <name> --role sp); ` +
      `the CMR Portal at ${url}/portal/ (add --portal for a sign-in link); a demo: npm run seed -- --demo`,
  );

  // The drachtio front may let live calls run for up to its drain limit before closing.
  const shutdownDelayMs = config.shutdown.graceMs + (config.drachtio?.drainTimeoutMs ?? 0);
  closeWithGrace({ delay: shutdownDelayMs, logger }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an error');
    logger.info({ event: 'shutdown', signal }, 'draining');
    services.readiness.startDraining();
    await signalling.stop();
    await app.close();
    await services.close();
    logger.info({ event: 'shutdown' }, 'stopped');
  });
}

/** A start-up step whose failure (address in use, unknown host) is reported with the settings behind it. */
async function naming<T>(settings: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw new Error(`${settings}: ${(err as Error).message}`, { cause: err });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`cmr-server: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
