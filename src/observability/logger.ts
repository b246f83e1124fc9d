/** pino, JSON by default; pretty only when asked (`CMR_LOG_PRETTY=true`). Secrets are redacted. */
import { pino, type Logger } from 'pino';
import type { Config } from '../config/config.js';

export type { Logger };

export function createLogger(config: Config['log']): Logger {
  return pino({
    level: config.level,
    base: { service: 'cmr-server' },
    redact: { paths: ['req.headers.authorization', '*.secret', '*.password', '*.jwtSecret'], censor: '[redacted]' },
    ...(config.pretty ? { transport: { target: 'pino-pretty', options: { singleLine: true } } } : {}),
  });
}
