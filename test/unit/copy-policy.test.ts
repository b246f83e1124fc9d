import { describe, expect, it } from 'vitest';
import { activeHoldings, checkClient, checkCopyable, checkPrivacy, copiedEntries, copyPrice, DTMF_CLIENT } from '../../src/copy/copy-policy.js';
import { CmrError } from '../../src/domain/errors.js';
import type { Identity } from '../../src/domain/identity.js';
import { DEFAULT_PRIVACY, type CmrClient, type Privacy } from '../../src/domain/types.js';
import { entry, resource } from '../support/presentation-fixtures.js';

const requestor = 'tel:+15551230001' as Identity;
const other = 'tel:+15551230009' as Identity;

function refusal(check: () => unknown): { code: string; detail: string } | null {
  try {
    check();
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(CmrError);
    return { code: (err as CmrError).code, detail: (err as CmrError).detail };
  }
}

describe('client check', () => {
  const handset: CmrClient = { id: 'acme', name: 'ACME', enabled: true, minVersion: '2.0.0', createdAt: '', updatedAt: '' };
  const cases: Array<[string, { id: string; version: string | null }, CmrClient | null, string | null]> = [
    ['registered, at the minimum', { id: 'acme', version: '2.0.0' }, handset, null],
    ['registered, above the minimum (loose form)', { id: 'acme', version: 'v2.10.1' }, handset, null],
    ['below the minimum', { id: 'acme', version: '1.99.0' }, handset, 'forbidden'],
    ['a pre-release of the minimum', { id: 'acme', version: '2.0.0-beta.1' }, handset, 'forbidden'],
    ['not a version', { id: 'acme', version: '2.1' }, handset, 'bad-request'],
    ['not registered', { id: 'acme', version: '2.0.0' }, null, 'forbidden'],
    ['disabled', { id: 'acme', version: '9.0.0' }, { ...handset, enabled: false }, 'forbidden'],
    ['DTMF, built in', DTMF_CLIENT, null, null],
    ['DTMF, registered and enabled', DTMF_CLIENT, { ...handset, id: 'dtmf' }, null],
    ['DTMF, registered disabled', DTMF_CLIENT, { ...handset, id: 'dtmf', enabled: false }, 'forbidden'],
  ];
  it.each(cases)('%s', (_label, asked, registered, expected) => {
    expect(refusal(() => checkClient(asked, registered))?.code ?? null).toBe(expected);
  });
});

describe('privacy check', () => {
  const privacy = (p: Partial<Privacy>): Privacy => ({ ...DEFAULT_PRIVACY, ...p });
  const cases: Array<[string, Privacy, string | null]> = [
    ['everyone', privacy({}), null],
    ['nobody', privacy({ copy: 'nobody' }), 'privacy-forbids'],
    ['contacts, requestor a contact', privacy({ copy: 'contacts', contacts: [requestor] }), null],
    ['contacts, requestor not a contact', privacy({ copy: 'contacts', contacts: [other] }), 'privacy-forbids'],
    ['everyone, but requestor blocked', privacy({ blocked: [requestor] }), 'privacy-forbids'],
    ['contact but blocked', privacy({ copy: 'contacts', contacts: [requestor], blocked: [requestor] }), 'privacy-forbids'],
    ['another user blocked', privacy({ blocked: [other] }), null],
  ];
  it.each(cases)('%s', (_label, p, expected) => {
    expect(refusal(() => checkPrivacy(p, requestor))?.code ?? null).toBe(expected);
  });
});

describe('resources', () => {
  it('may copy an available, copyable catalog resource only', () => {
    expect(checkCopyable('r1', resource('r1')).id).toBe('r1');
    expect(refusal(() => checkCopyable('r1', undefined))).toMatchObject({ code: 'not-found' });
    expect(refusal(() => checkCopyable('r1', resource('r1', { status: 'withdrawn' })))).toMatchObject({ code: 'forbidden', detail: 'resource r1 is withdrawn' });
    expect(refusal(() => checkCopyable('r1', resource('r1', { copyable: false })))).toMatchObject({ code: 'forbidden', detail: expect.stringMatching(/licence/) });
  });

  it('sums copy prices in one currency and refuses mixed currencies', () => {
    const prices = (copy: number, currency: string) => ({ subscribe: 1, renew: 1, copy, gift: 1, currency });
    expect(copyPrice([resource('a', { prices: prices(99, 'EUR') }), resource('b', { prices: prices(1, 'EUR') })])).toEqual({ amount: 100, currency: 'EUR' });
    expect(refusal(() => copyPrice([resource('a', { prices: prices(99, 'EUR') }), resource('b', { prices: prices(1, 'USD') })]))).toMatchObject({ code: 'conflict' });
  });

  it('counts only active, unexpired entries as held, the longest-lasting one per resource', () => {
    const at = new Date('2025-01-01T00:00:00Z');
    const held = activeHoldings(
      [
        entry('r1', { id: 'short', expiresAt: '2025-02-01T00:00:00Z' }),
        entry('r1', { id: 'long', expiresAt: '2026-01-01T00:00:00Z' }),
        entry('r2', { id: 'expired', expiresAt: '2024-12-31T00:00:00Z' }),
        entry('r3', { id: 'cancelled', status: 'cancelled' }),
      ],
      at,
    );
    expect([...held].map(([id, e]) => [id, e.id])).toEqual([['r1', 'long']]);
  });

  it('creates entries valid for each resource’s validity, with ids derived from the charge', () => {
    const now = new Date('2025-01-01T00:00:00Z');
    const entries = copiedEntries([resource('a', { validityDays: 7 }), resource('b', { validityDays: 1 })], { origin: 'copy-offline', from: other, chargeId: 'ch-01ABC', now });
    expect(entries).toEqual([
      { id: 'le-01ABC-1', resourceId: 'a', origin: 'copy-offline', from: other, acquiredAt: now.toISOString(), expiresAt: '2025-01-08T00:00:00.000Z', autoRenew: false, status: 'active', chargeId: 'ch-01ABC' },
      expect.objectContaining({ id: 'le-01ABC-2', resourceId: 'b', expiresAt: '2025-01-02T00:00:00.000Z' }),
    ]);
  });
});
