/**
 * The embedded signalling front: a record-routing proxy on this project's SIP stack, listening
 * on UDP and TCP (and WebSocket when a port is given) on the configured host, and the registrar
 * of its access peers' handsets. It reaches the core only through the two ports it is given.
 */
import type { CallEvents } from '../../src/calls/call-events.js';
import type { Config } from '../../src/config/config.js';
import type { SipCopyPort } from '../../src/copy/sip-copy-port.js';
import type { Logger } from '../../src/observability/logger.js';
import type { Metrics } from '../../src/observability/metrics.js';
import { tokenVerifier } from '../../src/http/plugins/auth.js';
import type { Keys } from '../../src/store/keys.js';
import type { RedisClient } from '../../src/store/redis.js';
import type { LoadShedder } from '../../src/overload/load-shedder.js';
import { SipStack } from '../sip-stack/stack.js';
import { CallProxy } from './call-proxy.js';
import { Registrar } from './registrar.js';

export interface EmbeddedFrontOptions {
  sip: Config['sip'];
  /** A call nobody ends is forgotten after this long (`CMR_MAX_CALL_SEC`). */
  maxCallSec: number;
  logger: Logger;
  metrics: Metrics;
  calls: CallEvents;
  copy: SipCopyPort;
  /** Overload: whether selections, copies and new calls are admitted now. */
  load: LoadShedder;
  /** Where the registrar keeps its bindings. */
  redis: RedisClient;
  keys: Keys;
  /** Handsets register with the REST API's tokens. */
  auth: Config['auth'];
}

export interface EmbeddedFront {
  readonly name: 'embedded';
  /** Bound ports (useful when the configuration asked for port 0). */
  readonly ports: { sip: number; ws: number | null };
  readonly listening: boolean;
  stop(): Promise<void>;
}

export async function startEmbeddedFront(options: EmbeddedFrontOptions): Promise<EmbeddedFront> {
  const logger = options.logger.child({ front: 'embedded' });
  let proxy: CallProxy | undefined;
  const stack = await SipStack.start(
    {
      host: options.sip.host,
      port: options.sip.port,
      wsPort: options.sip.wsPort,
      publicHost: options.sip.publicHost,
      logger,
      traffic: (direction, kind) => options.metrics.sipMessages.inc({ front: 'embedded', direction, kind }),
    },
    (created) => {
      proxy = new CallProxy(created, {
        calls: options.calls,
        copy: options.copy,
        load: options.load,
        copyKey: options.sip.copyKey,
        trusted: options.sip.trusted,
        access: options.sip.access,
        registrar: new Registrar({ redis: options.redis, keys: options.keys, tokens: tokenVerifier(options.auth), host: options.sip.publicHost, logger }),
        outboundProxy: options.sip.outboundProxy,
        selectBudgetMs: options.sip.selectBudgetMs,
        timerCMs: options.sip.timerCSec * 1000,
        cancelWaitMs: options.sip.cancelWaitMs,
        maxCallSec: options.maxCallSec,
        logger,
      });
      return proxy;
    },
  );
  logger.info(
    { event: 'sip-listening', host: options.sip.host, ports: stack.ports, publicHost: options.sip.publicHost, udpReceiveBufferBytes: stack.udpReceiveBufferBytes },
    'embedded SIP front listening',
  );
  return {
    name: 'embedded',
    ports: stack.ports,
    get listening() {
      return stack.listening;
    },
    async stop() {
      proxy?.stop();
      await stack.stop();
      logger.info({ event: 'sip-stopped' }, 'embedded SIP front stopped');
    },
  };
}
