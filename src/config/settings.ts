/**
 * Every setting of the server, declared once: its variable, its type and limits (a TypeBox
 * schema), its default and what it means. `config.ts` reads them from the environment (over an
 * optional `config/local.json`) and builds the configuration; the README's table of settings is
 * generated from here (`npx tsx scripts/settings-table.ts --write`, checked by a test). Adding a
 * setting is adding its entry here (and reading it in `config.ts`).
 *
 * A schema without `default` is a setting that is unset unless given. `defaultText` says the
 * default in words where the value alone would not (a derived or a development-only one).
 */
import { Type, type TSchema } from 'typebox';

/** The HS256 secret when none is set: for development only (the server warns at start-up). */
export const DEVELOPMENT_JWT_SECRET = 'dev-only-secret-change-me-please-0123456789';

interface Doc {
  description: string;
  defaultText?: string;
}

const text = (doc: Doc & { default?: string; minLength?: number; maxLength?: number; pattern?: string; errorMessage?: string }) =>
  Type.String({ minLength: 1, ...doc });
const integer = (minimum: number, maximum: number, doc: Doc & { default?: number }) => Type.Integer({ minimum, maximum, ...doc });
const oneOf = <V extends string>(values: readonly V[], doc: Doc & { default?: V }) => Type.Unsafe<V>({ type: 'string', enum: values, ...doc });
const flag = (doc: Doc & { default: boolean }) => Type.Boolean({ ...doc });
const port = (doc: Doc & { default?: number }) => integer(0, 65535, doc);

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const SETTINGS = {
  CMR_HTTP_HOST: text({ default: '127.0.0.1', description: 'REST listener address' }),
  CMR_HTTP_PORT: port({ default: 8080, description: 'REST listener port (`0`: any free one)' }),
  CMR_HTTP_BODY_LIMIT: integer(1024, 10 * 1024 * 1024, { default: 65536, description: 'largest accepted REST body, bytes' }),
  CMR_HTTP_RATE_LIMIT: integer(1, 1_000_000, { default: 1200, description: "requests per minute per `sub` (the token's subject; 429 with `Retry-After` past it)" }),
  CMR_HTTP_RATE_LIMIT_ANONYMOUS: integer(1, 1_000_000, { default: 60, description: 'requests per minute per address without a valid token (counted before they are refused)' }),
  CMR_HTTP_CORS_ORIGINS: Type.String({ default: '', defaultText: 'unset (none)', description: 'origins whose pages may call the API from a browser (CORS), comma-separated `scheme://host[:port]`, or `*`' }),

  CMR_SIP_HOST: text({ default: '127.0.0.1', description: 'embedded SIP front address, UDP and TCP' }),
  CMR_SIP_PORT: port({ default: 5060, description: 'embedded SIP front port' }),
  CMR_SIP_PUBLIC_HOST: text({ defaultText: '`CMR_SIP_HOST`', description: 'name or address written in `Via` and `Record-Route`' }),
  CMR_SIP_WS_PORT: port({ description: 'SIP over WebSocket for WebRTC handsets' }),
  CMR_SIP_TRUSTED: text({ default: '127.0.0.0/8,::1/128', description: 'CIDR list of the S-CSCFs: peers whose initial requests are taken and whose `P-Asserted-Identity` is honoured' }),
  CMR_SIP_ACCESS: Type.String({
    default: '',
    defaultText: 'unset (none)',
    description: 'CIDR list of peers allowed to place calls directly (lab handsets, WebRTC clients over WebSocket); the embedded front is their registrar',
  }),
  CMR_SIP_OUTBOUND_PROXY: text({ pattern: '^sips?:\\S+$', errorMessage: 'must be a SIP URI, e.g. sip:scscf.example.net:5060;lr', description: 'SIP URI every initial request is sent through' }),
  CMR_COPY_KEY: text({ default: '*', pattern: '^[0-9*#A-D]$', errorMessage: 'must be one DTMF key: 0-9, *, #, A-D', description: 'DTMF key that requests a copy' }),
  CMR_SELECT_BUDGET_MS: integer(1, 10_000, { default: 50, description: 'time allowed to select resources before the call proceeds unannotated' }),
  CMR_SELECT_CACHED_USERS: integer(0, 1_000_000, {
    default: 5000,
    description: "how many users' data (preferences, library, boxes) an instance keeps between calls, parsed, and between service information reads, as the answer (at most 1,000 of those); checked against the user's data version on every use (`0`: read it all every time)",
  }),
  CMR_SIP_TIMER_C_SEC: integer(1, 3600, { default: 181, description: 'embedded proxy: Timer C (RFC 3261 §16.8), how long a call may ring without a final response before the proxy cancels it' }),
  CMR_SIP_CANCEL_WAIT_MS: integer(100, 120_000, {
    default: 32000,
    description: 'embedded proxy: how long a cancelled called party has to answer before the proxy answers the caller (487, or 408 after Timer C) itself',
  }),

  CMR_OVERLOAD_SHED_BUSY_PERCENT: integer(1, 100, {
    default: 85,
    description: 'share of time the event loop is busy at which CMR work is shed (as for `CMR_OVERLOAD_SHED_LAG_MS`)',
  }),
  CMR_OVERLOAD_SHED_LAG_MS: integer(1, 60_000, {
    default: 40,
    description: 'event-loop lag at which CMR work is shed: calls go through unannotated, copy INFOs and REST requests get 503 with `Retry-After` (REST requests only from this lag, not from busy time)',
  }),
  CMR_OVERLOAD_REFUSE_LAG_MS: integer(1, 60_000, {
    default: 250,
    description: 'event-loop lag at which new calls are refused too (503 with `Retry-After`); in-dialog requests keep flowing. Half of T1: past it, retransmissions start to feed the backlog',
  }),
  CMR_OVERLOAD_MAX_SELECTIONS: integer(1, 1_000_000, { default: 100, description: 'selections under way at once beyond which new calls go through unannotated' }),
  CMR_OVERLOAD_RETRY_AFTER_SEC: integer(1, 3600, { default: 2, description: '`Retry-After` of what is refused for overload' }),

  CMR_DRACHTIO_HOST: text({
    description:
      "set it to use the drachtio front; inbound mode: drachtio-server's admin address, outbound mode: the address the server listens on for drachtio-server",
  }),
  CMR_DRACHTIO_PORT: port({ default: 9022, description: 'drachtio front: the admin port (inbound), or the port to listen on (outbound; `0`: any free one)' }),
  CMR_DRACHTIO_SECRET: text({ default: 'cymru', description: "drachtio-server's admin secret" }),
  CMR_DRACHTIO_MODE: oneOf(['inbound', 'outbound'], { default: 'inbound', description: 'drachtio front: `inbound` connects to drachtio-server, `outbound` lets drachtio-server connect for each call' }),
  CMR_DRAIN_TIMEOUT_MS: integer(0, 3_600_000, { default: 30000, description: 'drachtio front: how long SIGTERM lets live calls run before hanging them up' }),

  CMR_RTPENGINE: text({
    pattern: '^\\S+:\\d{1,5}$',
    errorMessage: 'must be host:port of rtpengine\'s ng control, e.g. 127.0.0.1:22222',
    description: "drachtio front: rtpengine's ng control (UDP `host:port`); set, callers hear the ringback tone they are presented (early media); unset: announcement only",
  }),
  CMR_RTPENGINE_TIMEOUT_MS: integer(10, 10_000, { default: 500, description: 'how long an rtpengine command may go unanswered before it fails (and rtpengine counts as down until it answers a ping)' }),
  CMR_MEDIA_CACHE_DIR: text({ defaultText: '`cmr-media` in the system temporary directory', description: 'where local copies of tone content are kept for rtpengine to play (rtpengine must read it)' }),
  CMR_MEDIA_ALLOW_HOSTS: Type.String({
    default: '',
    defaultText: 'unset (public addresses only)',
    description: 'host names and CIDRs tone content may be fetched from although private or loopback (comma-separated); public addresses are always allowed',
  }),
  CMR_MEDIA_FETCH_TIMEOUT_MS: integer(100, 120_000, { default: 5000, description: 'how long fetching one tone may take' }),
  CMR_MEDIA_MAX_BYTES: integer(1024, 100 * 1024 * 1024, { default: 10 * 1024 * 1024, description: 'largest tone fetched, bytes' }),

  CMR_REDIS_URL: text({ default: 'redis://127.0.0.1:6379', description: '`redis://…` one node; `redis+cluster://h1:p1,h2:p2` a Redis Cluster' }),
  CMR_REDIS_NAMESPACE: text({ default: 'cmr', pattern: '^[A-Za-z0-9_.:-]{1,64}$', errorMessage: 'letters, digits, "_.:-" only, at most 64', description: 'key prefix' }),
  CMR_REDIS_COMMAND_TIMEOUT_MS: integer(10, 60_000, { default: 1000, description: 'how long a Redis command may take before it counts as a store failure' }),

  CMR_JWT_SECRET: text({
    default: DEVELOPMENT_JWT_SECRET,
    minLength: 32,
    errorMessage: 'must be at least 32 characters',
    defaultText: 'development secret',
    description: 'HS256 secret of bearer tokens (32+ characters; set it in production)',
  }),
  CMR_JWT_MAX_TTL_SEC: integer(60, 30 * 86_400, { default: 86400, description: 'longest token lifetime accepted (`exp` − `iat`, or − now); tokens without `exp` are refused' }),
  CMR_JWT_JWKS_URL: text({
    description: "JWKS of the operator's identity provider: RS256/ES256 tokens are verified against it (beside HS256; with the development secret, HS256 is then refused)",
  }),
  CMR_JWT_ISSUER: text({ description: "required `iss` of the identity provider's tokens (required with `CMR_JWT_JWKS_URL`)" }),
  CMR_JWT_AUDIENCE: text({ description: "required `aud` of the identity provider's tokens (required with `CMR_JWT_JWKS_URL`)" }),
  CMR_JWT_ROLE_CLAIM: text({
    default: 'role',
    description: "claim (dotted path, e.g. `realm_access.roles`) of the identity provider's tokens holding `user` or `sp`, or a list with one of them",
  }),

  CMR_CHARGING_MODE: oneOf(['cdr', 'nchf'], { default: 'cdr', description: '`cdr` offline records, or `nchf` online charging against a CHF' }),
  CMR_CHF_URL: text({ description: 'CHF base URL (required with `nchf`)' }),
  CMR_CHF_TIMEOUT_MS: integer(10, 60_000, { default: 2000, description: 'how long a CHF request may take' }),
  CMR_AS_IDENTITY: text({ default: 'cmr-as', description: 'the server as the CHF knows it (`nfConsumerIdentification`)' }),
  CMR_CHARGING_LEASE_MS: integer(100, 600_000, {
    defaultText: '30 s (3 × CHF timeout + 5 s when longer)',
    description: 'how long a charged action is left to its request before the recoverer finishes it (after a crash, the wait before recovery)',
  }),
  CMR_PORTAL_WEBHOOK_URL: text({ description: 'activity records are POSTed here (at least once)' }),

  CMR_SESSION_GRACE_SEC: integer(0, 86_400, { default: 120, description: 'presenting session lifetime after the call ends' }),
  CMR_MAX_CALL_SEC: integer(60, 7 * 86_400, { default: 14400, description: 'presenting session lifetime at most' }),
  CMR_SWEEP_INTERVAL_MS: integer(100, 3_600_000, { default: 30000, description: 'how often the library sweeper runs' }),
  CMR_RENEW_AHEAD_SEC: integer(0, 7 * 86_400, { default: 3600, description: 'how long before expiry the sweeper renews auto-renewing entries' }),

  CMR_LOG_LEVEL: oneOf(LOG_LEVELS, { default: 'info', description: 'pino level' }),
  CMR_LOG_PRETTY: flag({ default: false, description: 'pretty printing of the log (for a terminal)' }),
  CMR_SHUTDOWN_GRACE_MS: integer(0, 600_000, { default: 10000, description: 'how long SIGTERM waits for in-flight work' }),
} satisfies Record<string, TSchema>;

export type SettingName = keyof typeof SETTINGS;

/** The README's table of settings, one row per setting, in the order above. */
export function settingsTable(): string {
  const rows = Object.entries(SETTINGS).map(([name, schema]) => {
    const { default: value, defaultText, description } = schema as unknown as Doc & { default?: unknown };
    const shown = defaultText ?? (value === undefined ? 'unset' : `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``);
    return `| \`${name}\` | ${shown} | ${description} |`;
  });
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
