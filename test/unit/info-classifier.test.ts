import { describe, expect, it } from 'vitest';
import { classifyInfo, dtmfSignal, mediaType } from '../../src/copy/info-classifier.js';

describe('INFO classification (contract §3.2)', () => {
  const cases: Array<[string, string | null, string | null, string, string]> = [
    ['copy package with copy JSON', 'cmr-copy', 'application/vnd.cmr.copy+json', '{}', 'copy-json'],
    ['copy package with another body', 'cmr-copy', 'text/plain', 'x', 'unsupported-media-type'],
    ['copy package without body type', 'cmr-copy', null, '', 'unsupported-media-type'],
    ['copy JSON without package', null, 'application/vnd.cmr.copy+json', '{}', 'copy-json'],
    ['dtmf-relay with the copy key', null, 'application/dtmf-relay', 'Signal=*\r\nDuration=160\r\n', 'copy-dtmf'],
    ['dtmf-relay with spaces', null, 'application/dtmf-relay', 'Signal= *\r\nDuration= 250', 'copy-dtmf'],
    ['dtmf-relay with another digit', null, 'application/dtmf-relay', 'Signal=5\r\nDuration=160', 'pass-through'],
    ['infoDtmf with the key', 'infodtmf', 'application/dtmf', '*', 'copy-dtmf'],
    ['infoDtmf with Signal=', 'infodtmf', 'application/dtmf', 'Signal=*\r\nDuration=100', 'copy-dtmf'],
    ['infoDtmf with another digit', 'infodtmf', 'application/dtmf', '7', 'pass-through'],
    ['infoDtmf with a wrong body type', 'infodtmf', 'text/plain', '*', 'unsupported-media-type'],
    ['unknown package', 'g.3gpp.foo', 'application/xml', '<x/>', 'bad-info-package'],
    ['legacy INFO with another type', null, 'application/media_control+xml', '<x/>', 'pass-through'],
    ['INFO without body', null, null, '', 'pass-through'],
  ];
  it.each(cases)('%s', (_label, infoPackage, contentType, body, expected) => {
    expect(classifyInfo({ infoPackage, contentType, body }, '*').kind).toBe(expected);
  });

  it('honours another configured copy key', () => {
    expect(classifyInfo({ infoPackage: null, contentType: 'application/dtmf-relay', body: 'Signal=#' }, '#').kind).toBe('copy-dtmf');
    expect(classifyInfo({ infoPackage: null, contentType: 'application/dtmf-relay', body: 'Signal=*' }, '#').kind).toBe('pass-through');
  });

  it('reads DTMF keys and media types', () => {
    expect(dtmfSignal('Signal=a')).toBe('A');
    expect(dtmfSignal('nonsense')).toBeNull();
    expect(mediaType('Application/DTMF-Relay; charset=x')).toBe('application/dtmf-relay');
    expect(mediaType('  ')).toBeNull();
    expect(mediaType(undefined)).toBeNull();
  });
});
