import { describe, expect, it } from 'vitest';
import { StreamFramer } from '../../../sip/sip-stack/stream-framer.js';

function frame(chunks: string[], max = 1000) {
  const events: string[] = [];
  const framer = new StreamFramer(max, {
    message: (bytes) => events.push(`message:${bytes.toString('latin1')}`),
    oversized: (head) => events.push(`oversized:${head.toString('latin1')}`),
    garbage: (reason) => events.push(`garbage:${reason}`),
  });
  for (const chunk of chunks) framer.push(Buffer.from(chunk, 'latin1'));
  return events;
}

const M1 = 'OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 3\r\n\r\nabc';
const M2 = 'OPTIONS sip:a@b SIP/2.0\r\nl: 0\r\n\r\n';

describe('StreamFramer', () => {
  it.each([
    ['one message', [M1], [`message:${M1}`]],
    ['two messages in one chunk', [M1 + M2], [`message:${M1}`, `message:${M2}`]],
    ['a message split byte by byte', [...M1], [`message:${M1}`]],
    ['keep-alive CRLFs between messages', ['\r\n\r\n', M1, '\r\n', M2], [`message:${M1}`, `message:${M2}`]],
    ['no Content-Length as an empty body', ['A sip:a SIP/2.0\r\nX: 1\r\n\r\nB sip:b SIP/2.0\r\n\r\n'], ['message:A sip:a SIP/2.0\r\nX: 1\r\n\r\n', 'message:B sip:b SIP/2.0\r\n\r\n']],
    ['a body still to come', ['OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 10\r\n\r\nabc'], []],
  ])('frames %s', (_name, chunks, expected) => {
    expect(frame(chunks)).toEqual(expected);
  });

  it('refuses a message over the cap, giving its header section, and stops', () => {
    const head = 'INFO sip:a@b SIP/2.0\r\nContent-Length: 5000\r\n\r\n';
    expect(frame([head + 'x'.repeat(100), M1])).toEqual([`oversized:${head}`]);
  });

  it.each([
    ['a header section that never ends', ['x'.repeat(1001)], 'header section longer than the message cap'],
    ['a bad Content-Length', ['A sip:a SIP/2.0\r\nContent-Length: -1\r\n\r\n'], 'bad Content-Length "-1"'],
    ['a Content-Length that is not a number', ['A sip:a SIP/2.0\r\nContent-Length: ten\r\n\r\n'], 'bad Content-Length "ten"'],
  ])('gives up on %s', (_name, chunks, reason) => {
    expect(frame([...chunks, M1])).toEqual([`garbage:${reason}`]);
  });
});
