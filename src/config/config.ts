/**
 * Configuration: the settings of `settings.ts` (each declared there once, with its default),
 * read from the `CMR_*` environment variables of the contract (§6) over an optional
 * `config/local.json` (`{"CMR_HTTP_PORT": 9090, …}`). Every setting is parsed and checked here,
 * once, so the rest of the code can trust it; a bad value stops start-up with a `ConfigError`
 * naming the setting.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Static, TSchema } from 'typebox';
import Value from 'typebox/value';
import { parseCidrList, type Cidr } from './cidr.js';
import { HostPolicy } from '../media/host-policy.js';
import { DEVELOPMENT_JWT_SECRET, LOG_LEVELS, SETTINGS, type SettingName } from './settings.js';

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
    /** The S-CSCFs: initial requests are taken from them, and their asserted identities honoured. */
    trusted: Cidr[];
    /** Peers allowed to place calls directly and to register (handsets); their identities are never asserted. */
    access: Cidr[];
    outboundProxy: string | null;
    copyKey: string;
    selectBudgetMs: number;
    /** Parties whose data the call path keeps between calls (see `SelectionReader`). */
    selectCachedUsers: number;
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
  /** Ringback tones the caller hears (drachtio front): rtpengine and the tone content it plays. */
  media: {
    /** rtpengine's ng control; null: no early media. */
    rtpengine: { host: string; port: number } | null;
    timeoutMs: number;
    cacheDir: string;
    /** Host names and CIDRs content may come from although not public (checked by `HostPolicy`). */
    allowHosts: string;
    fetchTimeoutMs: number;
    maxBytes: number;
  };
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
  /** When CMR work is shed and when calls are refused (src/overload/load-shedder.ts). */
  overload: { shedBusyShare: number; shedLagMs: number; refuseLagMs: number; maxSelections: number; retryAfterSec: number };
  portal: { webhookUrl: string | null };
  sessions: { graceSec: number; maxCallSec: number };
  /** Library upkeep: how often the sweeper looks for due entries, how long before expiry it renews. */
  library: { sweepIntervalMs: number; renewAheadSec: number };
  log: { level: LogLevel; pretty: boolean };
  shutdown: { graceMs: number };
}

export type DrachtioMode = 'inbound' | 'outbound';
export type LogLevel = (typeof LOG_LEVELS)[number];

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
type Values = { [K in SettingName]: Static<(typeof SETTINGS)[K]> | null };

const LOCAL_FILE = fileURLToPath(new URL('../../../config/local.json', import.meta.url));

/** `config/local.json` when there is one (path relative to the sources or to the build): settings by variable. */
export function readLocalFile(file?: string): Record<string, unknown> {
  const candidates = file ? [file] : [LOCAL_FILE, fileURLToPath(new URL('../../config/local.json', import.meta.url))];
  for (const candidate of candidates) {
    let text: string;
    try {
      text = readFileSync(candidate, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new ConfigError('config/local.json', (err as Error).message);
    }
    try {
      return JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError('config/local.json', (err as Error).message);
    }
  }
  return {};
}

/** Every setting's value: the environment's, else the file's, else its default (null: unset). */
export function readSettings(env: Env = process.env, file: Record<string, unknown> = readLocalFile()): Values {
  const unknown = Object.keys(file).filter((name) => !(name in SETTINGS));
  if (unknown.length > 0) throw new ConfigError('config/local.json', `unknown settings ${unknown.join(', ')}`);
  const values: Record<string, unknown> = {};
  for (const [name, schema] of Object.entries(SETTINGS) as Array<[SettingName, TSchema & { default?: unknown }]>) {
    const given = env[name] !== undefined && env[name] !== '' ? env[name] : file[name];
    values[name] = given === undefined || given === null ? (schema.default ?? null) : checked(name, schema, Array.isArray(given) ? given.join(',') : given);
  }
  return values as Values;
}

function checked(name: string, schema: TSchema, given: unknown): unknown {
  const value = Value.Convert(schema, given);
  if (Value.Check(schema, value)) return value;
  const s = schema as { type?: string; minimum?: number; maximum?: number; enum?: string[]; errorMessage?: string };
  const got = JSON.stringify(given);
  if (s.type === 'integer') throw new ConfigError(name, `must be an integer from ${s.minimum} to ${s.maximum}, got ${got}`);
  if (s.type === 'boolean') throw new ConfigError(name, `must be true or false, got ${got}`);
  if (s.enum) throw new ConfigError(name, `must be ${s.enum.length === 2 ? s.enum.join(' or ') : `one of ${s.enum.join(', ')}`}, got ${got}`);
  throw new ConfigError(name, s.errorMessage ?? 'must be a non-empty string');
}

/** Builds the configuration from the settings; throws `ConfigError`. */
export function loadConfig(env: Env = process.env, file: Record<string, unknown> = readLocalFile()): Config {
  const v = readSettings(env, file);
  const set = <T>(value: T | null, name: string): T => {
    if (value === null) throw new ConfigError(name, 'is required');
    return value;
  };
  const trusted = cidrList('CMR_SIP_TRUSTED', v.CMR_SIP_TRUSTED ?? '');
  const access = cidrList('CMR_SIP_ACCESS', v.CMR_SIP_ACCESS ?? '');
  const chfUrl = httpUrl('CMR_CHF_URL', v.CMR_CHF_URL);
  if (v.CMR_CHARGING_MODE === 'nchf' && chfUrl === null) throw new ConfigError('CMR_CHF_URL', 'is required when CMR_CHARGING_MODE=nchf');
  const jwksUrl = httpUrl('CMR_JWT_JWKS_URL', v.CMR_JWT_JWKS_URL);
  const drachtioMode = v.CMR_DRACHTIO_MODE as DrachtioMode;
  const drachtioPort = set(v.CMR_DRACHTIO_PORT, 'CMR_DRACHTIO_PORT');
  // Outbound mode listens: 0 takes any free port, as for the other listeners; inbound connects.
  if (v.CMR_DRACHTIO_HOST !== null && drachtioMode === 'inbound' && drachtioPort === 0) {
    throw new ConfigError('CMR_DRACHTIO_PORT', 'must be an integer from 1 to 65535 in inbound mode, got 0');
  }
  const redisUrl = set(v.CMR_REDIS_URL, 'CMR_REDIS_URL');
  const allowHosts = v.CMR_MEDIA_ALLOW_HOSTS ?? '';
  try {
    new HostPolicy(allowHosts);
  } catch (err) {
    throw new ConfigError('CMR_MEDIA_ALLOW_HOSTS', (err as Error).message);
  }

  return {
    http: {
      host: set(v.CMR_HTTP_HOST, 'CMR_HTTP_HOST'),
      port: set(v.CMR_HTTP_PORT, 'CMR_HTTP_PORT'),
      bodyLimitBytes: set(v.CMR_HTTP_BODY_LIMIT, 'CMR_HTTP_BODY_LIMIT'),
      rateLimitPerMinute: set(v.CMR_HTTP_RATE_LIMIT, 'CMR_HTTP_RATE_LIMIT'),
      anonymousRateLimitPerMinute: set(v.CMR_HTTP_RATE_LIMIT_ANONYMOUS, 'CMR_HTTP_RATE_LIMIT_ANONYMOUS'),
      corsOrigins: originList('CMR_HTTP_CORS_ORIGINS', v.CMR_HTTP_CORS_ORIGINS ?? ''),
    },
    sip: {
      host: set(v.CMR_SIP_HOST, 'CMR_SIP_HOST'),
      port: set(v.CMR_SIP_PORT, 'CMR_SIP_PORT'),
      publicHost: v.CMR_SIP_PUBLIC_HOST ?? set(v.CMR_SIP_HOST, 'CMR_SIP_HOST'),
      wsPort: v.CMR_SIP_WS_PORT,
      trusted,
      access,
      outboundProxy: v.CMR_SIP_OUTBOUND_PROXY,
      copyKey: set(v.CMR_COPY_KEY, 'CMR_COPY_KEY'),
      selectBudgetMs: set(v.CMR_SELECT_BUDGET_MS, 'CMR_SELECT_BUDGET_MS'),
      selectCachedUsers: set(v.CMR_SELECT_CACHED_USERS, 'CMR_SELECT_CACHED_USERS'),
      timerCSec: set(v.CMR_SIP_TIMER_C_SEC, 'CMR_SIP_TIMER_C_SEC'),
      cancelWaitMs: set(v.CMR_SIP_CANCEL_WAIT_MS, 'CMR_SIP_CANCEL_WAIT_MS'),
    },
    drachtio:
      v.CMR_DRACHTIO_HOST === null
        ? null
        : {
            mode: drachtioMode,
            host: v.CMR_DRACHTIO_HOST,
            port: drachtioPort,
            secret: set(v.CMR_DRACHTIO_SECRET, 'CMR_DRACHTIO_SECRET'),
            drainTimeoutMs: set(v.CMR_DRAIN_TIMEOUT_MS, 'CMR_DRAIN_TIMEOUT_MS'),
          },
    media: {
      rtpengine: v.CMR_RTPENGINE === null ? null : hostPort('CMR_RTPENGINE', v.CMR_RTPENGINE),
      timeoutMs: set(v.CMR_RTPENGINE_TIMEOUT_MS, 'CMR_RTPENGINE_TIMEOUT_MS'),
      cacheDir: v.CMR_MEDIA_CACHE_DIR ?? join(tmpdir(), 'cmr-media'),
      allowHosts,
      fetchTimeoutMs: set(v.CMR_MEDIA_FETCH_TIMEOUT_MS, 'CMR_MEDIA_FETCH_TIMEOUT_MS'),
      maxBytes: set(v.CMR_MEDIA_MAX_BYTES, 'CMR_MEDIA_MAX_BYTES'),
    },
    redis: {
      target: parseRedisUrl(redisUrl),
      url: redisUrl,
      namespace: set(v.CMR_REDIS_NAMESPACE, 'CMR_REDIS_NAMESPACE'),
      commandTimeoutMs: set(v.CMR_REDIS_COMMAND_TIMEOUT_MS, 'CMR_REDIS_COMMAND_TIMEOUT_MS'),
    },
    auth: {
      jwtSecret: set(v.CMR_JWT_SECRET, 'CMR_JWT_SECRET'),
      usingDefaultSecret: v.CMR_JWT_SECRET === DEVELOPMENT_JWT_SECRET,
      maxTtlSec: set(v.CMR_JWT_MAX_TTL_SEC, 'CMR_JWT_MAX_TTL_SEC'),
      jwks:
        jwksUrl === null
          ? null
          : {
              url: jwksUrl,
              issuer: set(v.CMR_JWT_ISSUER, 'CMR_JWT_ISSUER'),
              audience: set(v.CMR_JWT_AUDIENCE, 'CMR_JWT_AUDIENCE'),
              roleClaim: set(v.CMR_JWT_ROLE_CLAIM, 'CMR_JWT_ROLE_CLAIM'),
            },
    },
    charging: {
      mode: v.CMR_CHARGING_MODE as 'cdr' | 'nchf',
      chfUrl,
      chfTimeoutMs: set(v.CMR_CHF_TIMEOUT_MS, 'CMR_CHF_TIMEOUT_MS'),
      asIdentity: set(v.CMR_AS_IDENTITY, 'CMR_AS_IDENTITY'),
      leaseMs: v.CMR_CHARGING_LEASE_MS,
    },
    overload: {
      shedBusyShare: set(v.CMR_OVERLOAD_SHED_BUSY_PERCENT, 'CMR_OVERLOAD_SHED_BUSY_PERCENT') / 100,
      shedLagMs: set(v.CMR_OVERLOAD_SHED_LAG_MS, 'CMR_OVERLOAD_SHED_LAG_MS'),
      refuseLagMs: set(v.CMR_OVERLOAD_REFUSE_LAG_MS, 'CMR_OVERLOAD_REFUSE_LAG_MS'),
      maxSelections: set(v.CMR_OVERLOAD_MAX_SELECTIONS, 'CMR_OVERLOAD_MAX_SELECTIONS'),
      retryAfterSec: set(v.CMR_OVERLOAD_RETRY_AFTER_SEC, 'CMR_OVERLOAD_RETRY_AFTER_SEC'),
    },
    portal: { webhookUrl: httpUrl('CMR_PORTAL_WEBHOOK_URL', v.CMR_PORTAL_WEBHOOK_URL) },
    sessions: { graceSec: set(v.CMR_SESSION_GRACE_SEC, 'CMR_SESSION_GRACE_SEC'), maxCallSec: set(v.CMR_MAX_CALL_SEC, 'CMR_MAX_CALL_SEC') },
    library: { sweepIntervalMs: set(v.CMR_SWEEP_INTERVAL_MS, 'CMR_SWEEP_INTERVAL_MS'), renewAheadSec: set(v.CMR_RENEW_AHEAD_SEC, 'CMR_RENEW_AHEAD_SEC') },
    log: { level: v.CMR_LOG_LEVEL as LogLevel, pretty: v.CMR_LOG_PRETTY ?? false },
    shutdown: { graceMs: set(v.CMR_SHUTDOWN_GRACE_MS, 'CMR_SHUTDOWN_GRACE_MS') },
  };
}

function hostPort(setting: string, value: string): { host: string; port: number } {
  const at = value.lastIndexOf(':');
  const port = Number(value.slice(at + 1));
  if (at <= 0 || port < 1 || port > 65535) throw new ConfigError(setting, `must be host:port with a port from 1 to 65535, got "${value}"`);
  return { host: value.slice(0, at).replace(/^\[|\]$/g, ''), port };
}

function httpUrl(setting: string, value: string | null): string | null {
  if (value === null) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(setting, 'must be an http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(setting, 'must be an http(s) URL');
  return value.replace(/\/+$/, '');
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

/** A list of web origins (`scheme://host[:port]`, comma-separated), or `*`. */
function cidrList(setting: SettingName, raw: string): Cidr[] {
  try {
    return parseCidrList(raw);
  } catch (err) {
    throw new ConfigError(setting, (err as Error).message);
  }
}

function originList(setting: string, raw: string): string[] {
  const items = raw.split(',').map((item) => item.trim()).filter((item) => item !== '');
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
    rtpengine: config.media.rtpengine ? `${config.media.rtpengine.host}:${config.media.rtpengine.port}` : null,
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
