/**
 * Configuration: `config/default.json` overridden by the `CMR_*` environment variables
 * of the contract (§6). Every setting is parsed and checked here, once, so the rest of the
 * code can trust it; a bad value stops start-up with a `ConfigError` naming the setting.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseCidrList, type Cidr } from './cidr.js';

export type RedisTarget =
  | { mode: 'single'; url: string }
  | { mode: 'cluster'; nodes: Array<{ host: string; port: number }>; password?: string };

export interface Config {
  http: {
    host: string;
    port: number;
    bodyLimitBytes: number;
    rateLimitPerMinute: number;
    /** Requests per minute from one address without a valid token (401 floods). */
    anonymousRateLimitPerMinute: number;
    /** Origins whose pages may call the API (CORS); `*` any; empty: none. */
    corsOrigins: string[];
  };
  sip: {
    host: string;
    port: number;
    /** Name or address written in Via and Record-Route; defaults to `host`. */
    publicHost: string;
    wsPort: number | null;
    trusted: Cidr[];
    outboundProxy: string | null;
    copyKey: string;
    selectBudgetMs: number;
    /** Embedded proxy: Timer C (RFC 3261 §16.8), how long a ringing branch may go without a final response. */
    timerCSec: number;
    /** Embedded proxy: how long a cancelled branch has to answer before the caller gets 487 from the proxy. */
    cancelWaitMs: number;
  };
  /**
   * The drachtio front. `inbound`: the app connects to the drachtio server at `host:port`.
   * `outbound`: the app listens on `host:port` and the drachtio server connects to it for each call.
   */
  drachtio: { mode: DrachtioMode; host: string; port: number; secret: string; drainTimeoutMs: number } | null;
  redis: { target: RedisTarget; url: string; namespace: string; commandTimeoutMs: number };
  auth: {
    jwtSecret: string;
    usingDefaultSecret: boolean;
    /** Longest token lifetime accepted (`exp` is required). */
    maxTtlSec: number;
    /** The operator's identity provider: RS256/ES256 tokens verified against its JWKS. */
    jwks: { url: string; issuer: string; audience: string; roleClaim: string } | null;
  };
  charging: {
    mode: 'cdr' | 'nchf';
    chfUrl: string | null;
    chfTimeoutMs: number;
    asIdentity: string;
    /** How long a charged action is left to its request before the recoverer may finish it (null: derived from the CHF timeout). */
    leaseMs: number | null;
  };
  portal: { webhookUrl: string | null };
  sessions: { graceSec: number; maxCallSec: number };
  /** Library upkeep: how often the sweeper looks for due entries, how long before expiry it renews. */
  library: { sweepIntervalMs: number; renewAheadSec: number };
  log: { level: LogLevel; pretty: boolean };
  shutdown: { graceMs: number };
}

export type DrachtioMode = 'inbound' | 'outbound';
const DRACHTIO_MODES: readonly DrachtioMode[] = ['inbound', 'outbound'];

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** A setting that cannot be used; `message` is the one line printed at start-up. */
export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    readonly reason: string,
  ) {
    super(`invalid configuration: ${setting}: ${reason}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;
type Json = Record<string, unknown>;

const DEFAULT_FILE = fileURLToPath(new URL('../../../config/default.json', import.meta.url));

/** Reads `config/default.json` (path relative to the sources or to the build). */
export function readDefaults(file?: string): Json {
  const candidates = file
    ? [file]
    : [DEFAULT_FILE, fileURLToPath(new URL('../../config/default.json', import.meta.url))];
  for (const candidate of candidates) {
    try {
      return JSON.parse(readFileSync(candidate, 'utf8')) as Json;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new ConfigError('config/default.json', (err as Error).message);
      }
    }
  }
  throw new ConfigError('config/default.json', 'file not found');
}

/** Builds the configuration from defaults and environment; throws `ConfigError`. */
export function loadConfig(env: Env = process.env, defaults: Json = readDefaults()): Config {
  const pick = (setting: string, path: string): unknown => {
    const fromEnv = env[setting];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    return path.split('.').reduce<unknown>((node, part) => (node as Json | undefined)?.[part], defaults);
  };
  const str = (setting: string, path: string): string => {
    const value = pick(setting, path);
    if (typeof value !== 'string' || value.length === 0) throw new ConfigError(setting, 'must be a non-empty string');
    return value;
  };
  const optStr = (setting: string, path: string): string | null => {
    const value = pick(setting, path);
    if (value === null || value === undefined) return null;
    if (typeof value !== 'string') throw new ConfigError(setting, 'must be a string');
    return value;
  };
  const int = (setting: string, path: string, min: number, max: number): number => {
    const value = pick(setting, path);
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new ConfigError(setting, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
  const optInt = (setting: string, path: string, min: number, max: number): number | null =>
    pick(setting, path) === null || pick(setting, path) === undefined ? null : int(setting, path, min, max);
  const bool = (setting: string, path: string): boolean => {
    const value = pick(setting, path);
    if (typeof value === 'boolean') return value;
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    throw new ConfigError(setting, `must be true or false, got ${JSON.stringify(value)}`);
  };
  const httpUrl = (setting: string, value: string | null): string | null => {
    if (value === null) return null;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new ConfigError(setting, 'must be an http(s) URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(setting, 'must be an http(s) URL');
    return value.replace(/\/+$/, '');
  };

  const sipHost = str('CMR_SIP_HOST', 'sip.host');
  const trustedRaw = pick('CMR_SIP_TRUSTED', 'sip.trusted');
  const trustedList = listText(trustedRaw);
  let trusted: Cidr[];
  try {
    trusted = parseCidrList(trustedList);
  } catch (err) {
    throw new ConfigError('CMR_SIP_TRUSTED', (err as Error).message);
  }

  const copyKey = str('CMR_COPY_KEY', 'sip.copyKey');
  if (!/^[0-9*#A-D]$/.test(copyKey)) throw new ConfigError('CMR_COPY_KEY', 'must be one DTMF key: 0-9, *, #, A-D');

  const drachtioHost = optStr('CMR_DRACHTIO_HOST', 'drachtio.host');
  const drachtioMode = str('CMR_DRACHTIO_MODE', 'drachtio.mode');
  if (!DRACHTIO_MODES.includes(drachtioMode as DrachtioMode)) {
    throw new ConfigError('CMR_DRACHTIO_MODE', `must be inbound or outbound, got "${drachtioMode}"`);
  }
  const redisUrl = str('CMR_REDIS_URL', 'redis.url');
  const namespace = str('CMR_REDIS_NAMESPACE', 'redis.namespace');
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(namespace)) {
    throw new ConfigError('CMR_REDIS_NAMESPACE', 'letters, digits, "_.:-" only, at most 64');
  }

  const jwtSecret = str('CMR_JWT_SECRET', 'auth.jwtSecret');
  const jwksUrl = httpUrl('CMR_JWT_JWKS_URL', optStr('CMR_JWT_JWKS_URL', 'auth.jwksUrl'));
  if (jwtSecret.length < 32) throw new ConfigError('CMR_JWT_SECRET', 'must be at least 32 characters');

  const mode = str('CMR_CHARGING_MODE', 'charging.mode');
  if (mode !== 'cdr' && mode !== 'nchf') throw new ConfigError('CMR_CHARGING_MODE', `must be cdr or nchf, got "${mode}"`);
  const chfUrl = httpUrl('CMR_CHF_URL', optStr('CMR_CHF_URL', 'charging.chfUrl'));
  if (mode === 'nchf' && chfUrl === null) throw new ConfigError('CMR_CHF_URL', 'is required when CMR_CHARGING_MODE=nchf');

  const level = str('CMR_LOG_LEVEL', 'log.level');
  if (!LOG_LEVELS.includes(level as LogLevel)) {
    throw new ConfigError('CMR_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }

  const outboundProxy = optStr('CMR_SIP_OUTBOUND_PROXY', 'sip.outboundProxy');
  if (outboundProxy !== null && !/^sips?:[^\s]+$/i.test(outboundProxy)) {
    throw new ConfigError('CMR_SIP_OUTBOUND_PROXY', 'must be a SIP URI, e.g. sip:scscf.example.net:5060;lr');
  }

  return {
    http: {
      host: str('CMR_HTTP_HOST', 'http.host'),
      port: int('CMR_HTTP_PORT', 'http.port', 0, 65535),
      bodyLimitBytes: int('CMR_HTTP_BODY_LIMIT', 'http.bodyLimitBytes', 1024, 10 * 1024 * 1024),
      rateLimitPerMinute: int('CMR_HTTP_RATE_LIMIT', 'http.rateLimitPerMinute', 1, 1_000_000),
      anonymousRateLimitPerMinute: int('CMR_HTTP_RATE_LIMIT_ANONYMOUS', 'http.anonymousRateLimitPerMinute', 1, 1_000_000),
      corsOrigins: originList('CMR_HTTP_CORS_ORIGINS', pick('CMR_HTTP_CORS_ORIGINS', 'http.corsOrigins')),
    },
    sip: {
      host: sipHost,
      port: int('CMR_SIP_PORT', 'sip.port', 0, 65535),
      publicHost: optStr('CMR_SIP_PUBLIC_HOST', 'sip.publicHost') ?? sipHost,
      wsPort: optInt('CMR_SIP_WS_PORT', 'sip.wsPort', 0, 65535),
      trusted,
      outboundProxy,
      copyKey,
      selectBudgetMs: int('CMR_SELECT_BUDGET_MS', 'sip.selectBudgetMs', 1, 10_000),
      timerCSec: int('CMR_SIP_TIMER_C_SEC', 'sip.timerCSec', 1, 3600),
      cancelWaitMs: int('CMR_SIP_CANCEL_WAIT_MS', 'sip.cancelWaitMs', 100, 120_000),
    },
    drachtio:
      drachtioHost === null || drachtioHost === ''
        ? null
        : {
            mode: drachtioMode as DrachtioMode,
            host: drachtioHost,
            // Outbound mode listens: 0 takes any free port, as for the other listeners.
            port: int('CMR_DRACHTIO_PORT', 'drachtio.port', drachtioMode === 'outbound' ? 0 : 1, 65535),
            secret: str('CMR_DRACHTIO_SECRET', 'drachtio.secret'),
            drainTimeoutMs: int('CMR_DRAIN_TIMEOUT_MS', 'drachtio.drainTimeoutMs', 0, 3_600_000),
          },
    redis: {
      target: parseRedisUrl(redisUrl),
      url: redisUrl,
      namespace,
      commandTimeoutMs: int('CMR_REDIS_COMMAND_TIMEOUT_MS', 'redis.commandTimeoutMs', 10, 60_000),
    },
    auth: {
      jwtSecret,
      usingDefaultSecret: env['CMR_JWT_SECRET'] === undefined || env['CMR_JWT_SECRET'] === '',
      maxTtlSec: int('CMR_JWT_MAX_TTL_SEC', 'auth.maxTtlSec', 60, 30 * 86_400),
      jwks: jwksUrl === null ? null : { url: jwksUrl, issuer: str('CMR_JWT_ISSUER', 'auth.issuer'), audience: str('CMR_JWT_AUDIENCE', 'auth.audience'), roleClaim: str('CMR_JWT_ROLE_CLAIM', 'auth.roleClaim') },
    },
    charging: {
      mode,
      chfUrl,
      chfTimeoutMs: int('CMR_CHF_TIMEOUT_MS', 'charging.chfTimeoutMs', 10, 60_000),
      asIdentity: str('CMR_AS_IDENTITY', 'charging.asIdentity'),
      leaseMs: optInt('CMR_CHARGING_LEASE_MS', 'charging.leaseMs', 100, 600_000),
    },
    portal: { webhookUrl: httpUrl('CMR_PORTAL_WEBHOOK_URL', optStr('CMR_PORTAL_WEBHOOK_URL', 'portal.webhookUrl')) },
    sessions: {
      graceSec: int('CMR_SESSION_GRACE_SEC', 'sessions.graceSec', 0, 86_400),
      maxCallSec: int('CMR_MAX_CALL_SEC', 'sessions.maxCallSec', 60, 7 * 86_400),
    },
    library: {
      sweepIntervalMs: int('CMR_SWEEP_INTERVAL_MS', 'library.sweepIntervalMs', 100, 3_600_000),
      renewAheadSec: int('CMR_RENEW_AHEAD_SEC', 'library.renewAheadSec', 0, 7 * 86_400),
    },
    log: { level: level as LogLevel, pretty: bool('CMR_LOG_PRETTY', 'log.pretty') },
    shutdown: { graceMs: int('CMR_SHUTDOWN_GRACE_MS', 'shutdown.graceMs', 0, 600_000) },
  };
}

/**
 * `redis://[:password@]host:port[/db]` (also `rediss://`) selects a single node;
 * `redis+cluster://[:password@]host:port,host:port,…` (or `redis-cluster://`) a Redis Cluster.
 */
export function parseRedisUrl(raw: string): RedisTarget {
  const cluster = /^redis[+-]cluster:\/\/(?:(?:[^:@/]*):([^@/]*)@)?([^/?#]+)\/?$/i.exec(raw);
  if (cluster) {
    const nodes = cluster[2]!.split(',').map((part) => {
      const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(part.trim());
      if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) {
        throw new ConfigError('CMR_REDIS_URL', `cluster node "${part}" must be host:port`);
      }
      return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
    });
    return cluster[1] ? { mode: 'cluster', nodes, password: decodeURIComponent(cluster[1]) } : { mode: 'cluster', nodes };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('CMR_REDIS_URL', 'must be redis://host:port or redis+cluster://host:port,host:port');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError('CMR_REDIS_URL', `unsupported scheme "${url.protocol}"`);
  }
  if (!url.hostname) throw new ConfigError('CMR_REDIS_URL', 'has no host');
  return { mode: 'single', url: raw };
}

/** A list setting as comma-separated text: from the environment as it is, from the file an array. */
function listText(raw: unknown): string {
  if (Array.isArray(raw)) return raw.map((item) => (typeof item === 'string' ? item : JSON.stringify(item))).join(',');
  return typeof raw === 'string' ? raw : '';
}

/** A list of web origins (`scheme://host[:port]`, comma-separated or a JSON array), or `*`. */
function originList(setting: string, raw: unknown): string[] {
  const items = listText(raw).split(',').map((item) => item.trim()).filter((item) => item !== '');
  for (const item of items) {
    if (item === '*') continue;
    let origin: string | null = null;
    try {
      origin = new URL(item).origin;
    } catch {
      // reported below
    }
    if (origin !== item || !/^https?:/.test(item)) throw new ConfigError(setting, `"${item}" is not an origin: scheme://host[:port] with no path, or *`);
  }
  return items;
}

/** The configuration as safe to log: no secrets. */
export function describeConfig(config: Config): Record<string, unknown> {
  return {
    http: `${config.http.host}:${config.http.port}`,
    sipFront: config.drachtio
      ? `drachtio ${config.drachtio.mode} ${config.drachtio.host}:${config.drachtio.port}`
      : `embedded ${config.sip.host}:${config.sip.port}`,
    redis: config.redis.target.mode === 'single' ? redactUrl(config.redis.url) : `cluster ${config.redis.target.nodes.length} nodes`,
    charging: config.charging.mode,
    portalWebhook: config.portal.webhookUrl ? redactUrl(config.portal.webhookUrl) : null,
  };
}

function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '[unparsable]';
  }
}
