/**
 * Mutations of valid SIP messages, for robustness tests: a captured message loses, repeats or
 * swells a header, gets bytes that are not text, a wrong Content-Length, a broken start line or
 * header syntax, a body that is not what its type says, or is cut short. Messages are latin1
 * strings so every byte value survives; a seeded random source makes a run repeatable.
 */

export type Random = () => number;

interface Parts {
  start: string;
  headers: string[];
  body: string;
}

export interface Mutated {
  kinds: string[];
  text: string;
}

const split = (text: string): Parts => {
  const end = text.indexOf('\r\n\r\n');
  const head = end >= 0 ? text.slice(0, end) : text;
  const [start = '', ...headers] = head.split('\r\n');
  return { start, headers, body: end >= 0 ? text.slice(end + 4) : '' };
};

const join = ({ start, headers, body }: Parts): string => `${[start, ...headers].join('\r\n')}\r\n\r\n${body}`;
const nameOf = (line: string) => line.slice(0, Math.max(0, line.indexOf(':'))).trim().toLowerCase();
const int = (rand: Random, n: number) => Math.floor(rand() * n);
const pick = <T>(rand: Random, items: readonly T[]): T => items[int(rand, items.length)]!;

/** Bytes that are not valid UTF-8 or not text: lone continuation bytes, overlong forms, NUL, controls. */
const BAD_BYTES = ['\x80', '\xC3\x28', '\xE2\x82', '\xF0\x9F\x98', '\xC0\xAF', '\xFF\xFE', '\x00', '\x07', '\x1B[0m', '\x7F', 'Ã©', '\u00A0'];

const withLength = (parts: Parts, length: string): Parts => ({
  ...parts,
  headers: [...parts.headers.filter((h) => nameOf(h) !== 'content-length' && nameOf(h) !== 'l'), `Content-Length: ${length}`],
});

/** Each mutation changes one thing; `mutate` applies one to three of them in turn. */
const MUTATIONS: Record<string, (parts: Parts, rand: Random) => Parts> = {
  'header dropped': (p, rand) => {
    const headers = [...p.headers];
    headers.splice(int(rand, headers.length), 1);
    return { ...p, headers };
  },
  'header duplicated': (p, rand) => {
    const headers = [...p.headers];
    const at = int(rand, headers.length);
    headers.splice(at, 0, headers[at]!);
    return { ...p, headers };
  },
  'header duplicated with another value': (p, rand) => {
    const name = pick(rand, ['Call-ID', 'CSeq', 'From', 'To', 'Content-Length', 'Max-Forwards', 'Content-Type', 'Info-Package', 'P-Asserted-Identity']);
    const value = pick(rand, ['other@host', '7 INFO', '<sip:x@y>;tag=z', '12', '0', 'application/sdp', 'g.3gpp.foo', '<tel:+15559990000>']);
    return { ...p, headers: [...p.headers, `${name}: ${value}`] };
  },
  'header oversized': (p, rand) => {
    const headers = [...p.headers];
    const at = int(rand, headers.length);
    headers[at] = `${headers[at]}${'x'.repeat(pick(rand, [1024, 8 * 1024, 30 * 1024, 70 * 1024]))}`;
    return { ...p, headers };
  },
  'many headers': (p, rand) => ({ ...p, headers: [...p.headers, ...Array.from({ length: pick(rand, [100, 500, 3000]) }, (_, i) => `X-Filler-${i}: ${i}`)] }),
  'body oversized': (p, rand) => {
    const body = p.body + 'y'.repeat(pick(rand, [9 * 1024, 40 * 1024, 66 * 1024]));
    return withLength({ ...p, body }, String(body.length));
  },
  'bad bytes in a header': (p, rand) => {
    const headers = [...p.headers];
    const at = int(rand, headers.length);
    const line = headers[at]!;
    const cut = int(rand, line.length + 1);
    headers[at] = `${line.slice(0, cut)}${pick(rand, BAD_BYTES)}${line.slice(cut)}`;
    return { ...p, headers };
  },
  'bad bytes in the body': (p, rand) => {
    const cut = int(rand, p.body.length + 1);
    const body = `${p.body.slice(0, cut)}${pick(rand, BAD_BYTES)}${p.body.slice(cut)}`;
    return withLength({ ...p, body }, String(body.length));
  },
  'wrong Content-Length': (p, rand) => withLength(p, pick(rand, [String(p.body.length + 1), String(Math.max(0, p.body.length - 1)), '0', '-1', 'abc', '99999999999', ' 7 ', '0x10', '1e3', ''])),
  'Content-Length missing': (p) => ({ ...p, headers: p.headers.filter((h) => nameOf(h) !== 'content-length' && nameOf(h) !== 'l') }),
  'start line': (p, rand) => {
    const [first = '', second = '', third = ''] = p.start.split(' ');
    const start = pick(rand, [
      `${first.toLowerCase()} ${second} ${third}`,
      `${first} ${second} SIP/3.0`,
      `${first}  ${second}  ${third}`,
      `${first} <> ${third}`,
      `${first} ${second}`,
      `${first} sip:${'a'.repeat(5000)}@host ${third}`,
      `${first}\t${second}\t${third}`,
      ` ${p.start}`,
      `${p.start} trailing`,
      'SIP/2.0 999 Unheard Of',
      'SIP/2.0 20 OK',
    ]);
    return { ...p, start };
  },
  'header syntax': (p, rand) => {
    const headers = [...p.headers];
    const at = int(rand, headers.length);
    const line = headers[at]!;
    headers[at] = pick(rand, [
      line.replace(':', ''),
      line.replace(':', ' :'),
      line.replace(/^[^:]+/, 'Bad Header Name'),
      line.replace(/^[^:]+/, 'Ü\xDFber'),
      `${line.slice(0, line.indexOf(':') + 1)}`,
      `${line}\r\n continued on a folded line`,
      `${line}\r\n\tand another`,
      line.toUpperCase(),
      line.replace(/^Call-ID:/i, 'i:').replace(/^From:/i, 'f:').replace(/^To:/i, 't:').replace(/^Via:/i, 'v:'),
    ]);
    return { ...p, headers };
  },
  'field value': (p, rand) => {
    const garbage: Record<string, string[]> = {
      via: ['SIP/2.0/UDP', 'SIP/2.0/XYZ host;branch=z9hG4bKx', 'SIP/2.0/UDP 999.999.999.999:99999', 'SIP/2.0/UDP host;branch=', 'garbage'],
      from: ['<sip:+15551230001@example.net>', '<>;tag=1', 'sip:;tag=x', '"unterminated <sip:a@b>;tag=1', '<tel:+>;tag=1'],
      to: ['<>', '<sip:@>', 'nonsense;tag=', '<sip:+15551230002@example.net>;tag=a;tag=b'],
      'call-id': ['', ' ', '@', 'x'.repeat(2000)],
      cseq: ['x INFO', '1', '99999999999 INFO', '-1 INFO', '2 info', '2 INVITE'],
      'max-forwards': ['-1', '999999', 'many', ''],
      'content-type': ['', 'garbage', 'application/vnd.cmr.copy+json; charset=ebcdic', 'application/dtmf-relay', 'text/plain'],
      'info-package': ['', 'cmr-copy, cmr-copy', 'CMR-COPY', 'infoDtmf', '\x00'],
      'p-asserted-identity': ['<tel:+15559990000>', '<sip:someone.else@example.net>', 'garbage', '<tel:+>', ''],
      'record-route': ['<sip:127.0.0.1:1;lr>', 'garbage', '<>'],
      route: ['<sip:127.0.0.1:1;lr>', 'garbage', '<sip:10.255.255.1;lr>'],
    };
    const candidates = p.headers.map((h, i) => [i, nameOf(h)] as const).filter(([, name]) => garbage[name] !== undefined);
    if (candidates.length === 0) return p;
    const [at, name] = pick(rand, candidates);
    const headers = [...p.headers];
    headers[at] = `${headers[at]!.slice(0, headers[at]!.indexOf(':'))}: ${pick(rand, garbage[name]!)}`;
    return { ...p, headers };
  },
  'body replaced': (p, rand) => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const body = pick(rand, [
      '{"caller":',
      '[]',
      'null',
      '{"caller":1,"called":true,"client":"x"}',
      '{"caller":"tel:+15551230009","called":"tel:+15551230008","client":{"id":"acme-handset","version":"2.1.0"}}',
      `{"caller":"tel:+1","called":"tel:+2","client":{"id":"${'a'.repeat(6000)}","version":"2.1.0"}}`,
      deep,
      '{"caller":"\\ud800","called":"\\u0000","client":{"id":"acme-handset","version":"9999999999999999999.0.0"}}',
      '{"__proto__":{"admin":true},"caller":"tel:+15551230001","called":"tel:+15551230002","client":{"id":"acme-handset","version":"2.1.0"}}',
      'Signal=*\r\nDuration=160\r\n',
      '\x00\x01\x02',
    ]);
    return withLength({ ...p, body }, String(body.length));
  },
};

/** Mutations of the whole text, applied after the others. */
const TEXT_MUTATIONS: Record<string, (text: string, rand: Random) => string> = {
  'line endings': (text, rand) => text.replace(/\r\n/g, pick(rand, ['\n', '\r', '\n\r', '\r\r\n'])),
  truncated: (text, rand) => text.slice(0, int(rand, text.length)),
};

export const MUTATION_KINDS = [...Object.keys(MUTATIONS), ...Object.keys(TEXT_MUTATIONS)];

/** One to three mutations of `text`, chosen with `rand`. */
export function mutate(text: string, rand: Random): Mutated {
  let parts = split(text);
  const kinds: string[] = [];
  const count = 1 + int(rand, 3);
  for (let i = 0; i < count; i++) {
    const kind = pick(rand, MUTATION_KINDS);
    kinds.push(kind);
    if (kind in MUTATIONS && parts.headers.length > 0) parts = MUTATIONS[kind]!(parts, rand);
  }
  let out = join(parts);
  for (const kind of kinds) if (kind in TEXT_MUTATIONS) out = TEXT_MUTATIONS[kind]!(out, rand);
  return { kinds, text: out };
}
