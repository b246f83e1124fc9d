import { describe, expect, it } from 'vitest';
import { HostPolicy } from '../../src/media/host-policy.js';

describe('tone content host policy', () => {
  it('allows public addresses and refuses private, loopback and link-local ones unless listed', () => {
    const none = new HostPolicy('');
    for (const address of ['93.184.216.34', '2001:db8::1']) expect(none.allowsAddress(address)).toBe(true);
    for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.9', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1']) {
      expect(none.allowsAddress(address), address).toBe(false);
    }
    const some = new HostPolicy('10.20.0.0/16, 127.0.0.1, media.internal');
    expect(some.allowsAddress('10.20.3.4')).toBe(true);
    expect(some.allowsAddress('10.21.3.4')).toBe(false);
    expect(some.allowsAddress('127.0.0.1')).toBe(true);
    expect(some.allowsAddress('127.0.0.2')).toBe(false);
    expect(some.allowsName('Media.Internal')).toBe(true);
  });

  it('refuses a URL naming a non-public address, or not http(s), before any connection', () => {
    const policy = new HostPolicy('');
    expect(policy.refusal(new URL('http://127.0.0.1/x.wav'))).toMatch(/not a public address/);
    expect(policy.refusal(new URL('http://[::1]/x.wav'))).toMatch(/not a public address/);
    expect(policy.refusal(new URL('file:///etc/passwd'))).toMatch(/not http/);
    expect(policy.refusal(new URL('https://media.example.net/x.wav'))).toBeNull();
  });
});
