import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseRedisUrl } from '../../src/config/config.js';
import { isTrusted, parseCidrList } from '../../src/config/cidr.js';

describe('configuration', () => {
  it('uses the defaults of the settings when no variable is set', () => {
    const config = loadConfig({}, {});
    expect(config.http).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(config.sip).toMatchObject({ host: '127.0.0.1', port: 5060, copyKey: '*', selectBudgetMs: 50, timerCSec: 181, cancelWaitMs: 32_000 });
    expect(config.redis.target).toEqual({ mode: 'single', url: 'redis://127.0.0.1:6379' });
    expect(config.charging).toMatchObject({ mode: 'cdr', leaseMs: null });
    expect(config.drachtio).toBeNull();
    expect(config.sessions.graceSec).toBe(120);
    expect(config.library).toEqual({ sweepIntervalMs: 30_000, renewAheadSec: 3600 });
    expect(config.auth.usingDefaultSecret).toBe(true);
  });

  it('lets CMR_* variables override the defaults', () => {
    const config = loadConfig({
      CMR_HTTP_PORT: '9090',
      CMR_SIP_HOST: '127.0.0.2',
      CMR_DRACHTIO_HOST: '10.0.0.5',
      CMR_DRACHTIO_PORT: '9023',
      CMR_DRACHTIO_SECRET: 's3cret',
      CMR_DRACHTIO_MODE: 'outbound',
      CMR_REDIS_URL: 'redis+cluster://127.0.0.1:7000,127.0.0.1:7001',
      CMR_CHARGING_MODE: 'nchf',
      CMR_CHF_URL: 'http://127.0.0.1:9999/',
      CMR_SIP_TRUSTED: '10.0.0.0/8, 2001:db8::/32',
      CMR_COPY_KEY: '#',
      CMR_SELECT_BUDGET_MS: '20',
      CMR_LOG_LEVEL: 'warn',
      CMR_JWT_SECRET: 'x'.repeat(32),
      CMR_CHARGING_LEASE_MS: '2500',
    }, {});
    expect(config.http.port).toBe(9090);
    expect(config.charging.leaseMs).toBe(2500);
    expect(config.sip.publicHost).toBe('127.0.0.2');
    expect(config.drachtio).toEqual({ mode: 'outbound', host: '10.0.0.5', port: 9023, secret: 's3cret', drainTimeoutMs: 30000 });
    expect(config.redis.target).toEqual({ mode: 'cluster', nodes: [{ host: '127.0.0.1', port: 7000 }, { host: '127.0.0.1', port: 7001 }] });
    expect(config.charging).toMatchObject({ mode: 'nchf', chfUrl: 'http://127.0.0.1:9999' });
    expect(config.sip.trusted.map((c) => c.text)).toEqual(['10.0.0.0/8', '2001:db8::/32']);
    expect(config.sip.copyKey).toBe('#');
    expect(config.sip.selectBudgetMs).toBe(20);
    expect(config.log.level).toBe('warn');
    expect(config.auth.usingDefaultSecret).toBe(false);
  });

  const invalid: Array<[Record<string, string>, string, RegExp]> = [
    [{ CMR_HTTP_PORT: 'eighty' }, 'CMR_HTTP_PORT', /integer/],
    [{ CMR_SIP_PORT: '70000' }, 'CMR_SIP_PORT', /integer from 0 to 65535/],
    [{ CMR_REDIS_URL: 'http://x' }, 'CMR_REDIS_URL', /scheme/],
    [{ CMR_REDIS_URL: 'redis+cluster://a,b' }, 'CMR_REDIS_URL', /host:port/],
    [{ CMR_CHARGING_MODE: 'free' }, 'CMR_CHARGING_MODE', /cdr or nchf/],
    [{ CMR_CHARGING_MODE: 'nchf' }, 'CMR_CHF_URL', /required/],
    [{ CMR_CHF_URL: 'ftp://chf' }, 'CMR_CHF_URL', /http/],
    [{ CMR_PORTAL_WEBHOOK_URL: 'not a url' }, 'CMR_PORTAL_WEBHOOK_URL', /http/],
    [{ CMR_SIP_TRUSTED: '10.0.0.0/33' }, 'CMR_SIP_TRUSTED', /prefix/],
    [{ CMR_SIP_TRUSTED: 'example.com' }, 'CMR_SIP_TRUSTED', /CIDR/],
    [{ CMR_COPY_KEY: '**' }, 'CMR_COPY_KEY', /DTMF/],
    [{ CMR_DRACHTIO_MODE: 'sideways' }, 'CMR_DRACHTIO_MODE', /inbound or outbound/],
    [{ CMR_SELECT_BUDGET_MS: '0' }, 'CMR_SELECT_BUDGET_MS', /integer/],
    [{ CMR_CHARGING_LEASE_MS: '5' }, 'CMR_CHARGING_LEASE_MS', /integer from 100/],
    [{ CMR_LOG_LEVEL: 'loud' }, 'CMR_LOG_LEVEL', /one of/],
    [{ CMR_JWT_SECRET: 'short' }, 'CMR_JWT_SECRET', /32/],
    [{ CMR_SWEEP_INTERVAL_MS: '10' }, 'CMR_SWEEP_INTERVAL_MS', /integer from 100/],
    [{ CMR_RENEW_AHEAD_SEC: '-1' }, 'CMR_RENEW_AHEAD_SEC', /integer/],
    [{ CMR_RTPENGINE: 'rtpengine' }, 'CMR_RTPENGINE', /host:port/],
    [{ CMR_RTPENGINE: 'rtpengine:99999' }, 'CMR_RTPENGINE', /port from 1 to 65535/],
    [{ CMR_MEDIA_ALLOW_HOSTS: '10.0.0.0/40' }, 'CMR_MEDIA_ALLOW_HOSTS', /prefix/],
    [{ CMR_MEDIA_ALLOW_HOSTS: 'media host' }, 'CMR_MEDIA_ALLOW_HOSTS', /host name nor a CIDR/],
  ];
  it.each(invalid)('refuses %j naming the setting', (env, setting, reason) => {
    let error: unknown;
    try {
      loadConfig(env, {});
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe(setting);
    expect((error as ConfigError).message).toMatch(reason);
    expect((error as ConfigError).message).not.toContain('\n');
  });

  it('parses Redis URLs', () => {
    expect(parseRedisUrl('redis://:pw@10.1.1.1:6380/2')).toEqual({ mode: 'single', url: 'redis://:pw@10.1.1.1:6380/2' });
    expect(parseRedisUrl('redis-cluster://:p%40ss@h1:7000,[::1]:7001')).toEqual({
      mode: 'cluster',
      nodes: [{ host: 'h1', port: 7000 }, { host: '::1', port: 7001 }],
      password: 'p@ss',
    });
  });
});

describe('trusted peers', () => {
  const trusted = parseCidrList('127.0.0.0/8,10.1.0.0/16,::1/128,2001:db8::/32');
  const cases: Array<[string | undefined, boolean]> = [
    ['127.0.0.1', true],
    ['127.255.0.9', true],
    ['::ffff:127.0.0.1', true],
    ['10.1.200.3', true],
    ['10.2.0.1', false],
    ['::1', true],
    ['2001:db8:1::5', true],
    ['2001:db9::1', false],
    ['192.0.2.1', false],
    [undefined, false],
    ['not-an-ip', false],
  ];
  it.each(cases)('%s trusted: %s', (address, expected) => {
    expect(isTrusted(address, trusted)).toBe(expected);
  });
});
