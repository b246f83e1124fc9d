import { describe, expect, it } from 'vitest';
import { parseCopyBody } from '../../src/copy/copy-request.js';
import { CmrError } from '../../src/domain/errors.js';

const valid = { caller: 'tel:+15551230001', called: 'sip:+15551230002@ims.example.net;user=phone', client: { id: 'acme-handset', version: '2.1.0' }, resourceIds: ['r-123'] };

describe('copy request body', () => {
  it('parses a valid body into canonical identities', () => {
    expect(parseCopyBody(JSON.stringify(valid))).toEqual({
      caller: 'tel:+15551230001',
      called: 'tel:+15551230002',
      client: { id: 'acme-handset', version: '2.1.0' },
      resourceIds: ['r-123'],
    });
    const { resourceIds: _omit, ...everything } = valid;
    expect(parseCopyBody(JSON.stringify(everything)).resourceIds).toBeNull();
  });

  const bad: Array<[string, string, string, RegExp]> = [
    ['not JSON', '{"caller":', 'bad-request', /not JSON/],
    ['an array', '[]', 'bad-request', /object/],
    ['no caller', JSON.stringify({ ...valid, caller: undefined }), 'bad-request', /missing "caller"/],
    ['bad called', JSON.stringify({ ...valid, called: 'bob' }), 'bad-request', /"called"/],
    ['no client', JSON.stringify({ ...valid, client: undefined }), 'bad-request', /client/],
    ['client id wrong type', JSON.stringify({ ...valid, client: { id: 5, version: '1.0.0' } }), 'bad-request', /client\.id/],
    ['no client version', JSON.stringify({ ...valid, client: { id: 'a' } }), 'bad-request', /client\.version/],
    ['resourceIds not an array', JSON.stringify({ ...valid, resourceIds: 'r-1' }), 'bad-request', /array/],
    ['empty resourceIds', JSON.stringify({ ...valid, resourceIds: [] }), 'bad-request', /empty/],
    ['resourceIds of numbers', JSON.stringify({ ...valid, resourceIds: [1] }), 'bad-request', /resource ids/],
    ['too many resourceIds', JSON.stringify({ ...valid, resourceIds: Array.from({ length: 51 }, (_, i) => `r-${i}`) }), 'bad-request', /more than 50/],
    ['over 8 KiB', JSON.stringify({ ...valid, pad: 'x'.repeat(8200) }), 'payload-too-large', /8192/],
  ];
  it.each(bad)('refuses %s', (_label, body, code, reason) => {
    try {
      parseCopyBody(body);
      expect.unreachable('accepted a bad body');
    } catch (err) {
      expect(err).toBeInstanceOf(CmrError);
      expect((err as CmrError).code).toBe(code);
      expect((err as CmrError).message).toMatch(reason);
    }
  });
});
