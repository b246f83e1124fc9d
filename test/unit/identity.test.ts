import { describe, expect, it } from 'vitest';
import { parseIdentity } from '../../src/domain/identity.js';

describe('identity normalisation (contract §1)', () => {
  const canonical: Array<[string, string]> = [
    ['tel:+15551230001', 'tel:+15551230001'],
    ['TEL:+15551230001', 'tel:+15551230001'],
    ['tel:+1-555-123-0001', 'tel:+15551230001'],
    ['tel:+1(555)123.0001', 'tel:+15551230001'],
    ['tel:+15551230001;phone-context=ignored', 'tel:+15551230001'],
    ['sip:+15551230001@ims.example.net;user=phone', 'tel:+15551230001'],
    ['sip:+15551230001@IMS.Example.NET:5060;user=phone', 'tel:+15551230001'],
    ['sip:+1-555-123-0001@ims.example.net;transport=udp;user=phone', 'tel:+15551230001'],
    ['sip:+15551230001@ims.example.net', 'sip:+15551230001@ims.example.net'],
    ['sip:alice@Example.COM', 'sip:alice@example.com'],
    ['sip:alice@example.com:5070', 'sip:alice@example.com'],
    ['sip:alice@example.com;transport=tcp', 'sip:alice@example.com'],
    ['sip:alice@example.com?subject=hi', 'sip:alice@example.com'],
    ['sip:alice@example.com.', 'sip:alice@example.com'],
    ['SIP:Alice@example.com', 'sip:Alice@example.com'],
    ['sips:bob@example.com', 'sip:bob@example.com'],
    ['sip:bob@192.0.2.10:5060', 'sip:bob@192.0.2.10'],
    ['sip:bob@[2001:DB8::1]:5060', 'sip:bob@[2001:db8::1]'],
    ['sip:a%20b@example.com', 'sip:a%20b@example.com'],
    ['sip:alice@example.com;user=phone', 'sip:alice@example.com'],
  ];
  it.each(canonical)('%s → %s', (input, expected) => {
    expect(parseIdentity(input)).toEqual({ ok: true, identity: expected });
  });

  const refused: Array<[unknown, RegExp]> = [
    ['', /empty/],
    [undefined, /string/],
    [42, /string/],
    ['alice@example.com', /scheme/],
    ['+15551230001', /scheme/],
    [':alice@example.com', /scheme/],
    ['mailto:alice@example.com', /unsupported scheme/],
    ['tel:15551230001', /global number/],
    ['tel:+', /E\.164/],
    ['tel:+12', /E\.164/],
    ['tel:+1234567890123456', /E\.164/],
    ['tel:+0551230001', /E\.164/],
    ['tel:+1555abc0001', /E\.164/],
    ['sip:example.com', /user@host/],
    ['sip:@example.com', /user@host/],
    ['sip:alice@', /bad host/],
    ['sip:alice@exa_mple.com', /bad host/],
    ['sip:alice@example.com:port', /bad host/],
    ['sip:alice@[2001:db8::1', /bad host/],
    ['sip:al{ice}@example.com', /user part/],
    ['sip:al<ice@example.com', /user part/],
    ['sip:+1555x@example.com;user=phone', /E\.164/],
    ['sip:alice @example.com', /spaces/],
    [' tel:+15551230001', /spaces/],
    ['tel:+15551230001\n', /control/],
    ['sip:alice\u0000@example.com', /control/],
    [`sip:${'a'.repeat(250)}@example.com`, /longer than 256/],
  ];
  it.each(refused)('refuses %j', (input, reason) => {
    const result = parseIdentity(input);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});
