import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { CmrError } from '../../src/domain/errors.js';
import type { Identity } from '../../src/domain/identity.js';
import type { CopyRequest } from '../../src/copy/copy-service.js';
import { SipCopy } from '../../src/copy/sip-copy.js';
import type { InfoMessage } from '../../src/copy/sip-copy-port.js';

const info: InfoMessage = {
  callId: 'c-1@192.0.2.1',
  dialogFromTag: 'caller-tag',
  fromTag: 'caller-tag',
  cseq: 7,
  requestor: 'tel:+15551230001' as Identity,
  infoPackage: 'cmr-copy',
  contentType: 'application/vnd.cmr.copy+json',
  body: JSON.stringify({ caller: 'tel:+15551230001', called: 'tel:+15551230002', client: { id: 'acme', version: '2.0.0' } }),
};

/** A copy service neighbour that records what it is asked and fails as told. */
function port(failure: unknown) {
  const asked: CopyRequest[] = [];
  const lines: string[] = [];
  const logger = pino({ level: 'error' }, { write: (line: string) => lines.push(line) });
  const sipCopy = new SipCopy(
    {
      copy: async (request) => {
        asked.push(request);
        throw failure;
      },
    },
    { copyKey: '*', warningHost: 'cmr.example.net' },
    logger,
  );
  return { sipCopy, asked, lines };
}

describe('SIP copy port', () => {
  it('turns an INFO into an online copy keyed by dialog and CSeq', async () => {
    const { sipCopy, asked } = port(new CmrError('not-found', 'no call'));
    expect(await sipCopy.handleInfo(info)).toMatchObject({ status: 404, headers: { Warning: '399 cmr.example.net "no call"' } });
    expect(asked[0]).toMatchObject({
      mode: 'online',
      channel: 'sip',
      requestor: 'tel:+15551230001',
      call: { callId: 'c-1@192.0.2.1', dialogFromTag: 'caller-tag' },
      client: { id: 'acme', version: '2.0.0' },
      parties: { caller: 'tel:+15551230001', called: 'tel:+15551230002' },
      resourceIds: null,
      idempotency: { key: 'sip:c-1@192.0.2.1:caller-tag:7' },
    });
  });

  it('never throws: an unexpected failure is a 500, logged with the Call-ID', async () => {
    const { sipCopy, lines } = port(new TypeError('boom'));
    expect(await sipCopy.handleInfo(info)).toMatchObject({ status: 500, reason: 'Server Internal Error', headers: { Warning: expect.stringMatching(/^399 cmr\.example\.net "/) } });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ event: 'copy', callId: 'c-1@192.0.2.1', cseq: 7 });
  });
});
