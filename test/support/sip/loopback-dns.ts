/**
 * A DNS server on loopback for tests that route by name (RFC 3263): every `_sip._udp.<name>`
 * SRV query is answered with one target on `port`, every A query with `address`, anything else
 * with NXDOMAIN. `use()` points this process's resolver at it and `close()` restores the
 * previous servers, so requests for `example.com` reach a peer of the test over real DNS.
 */
import dgram from 'node:dgram';
import dns from 'node:dns';

const TYPE_A = 1;
const TYPE_SRV = 33;
const TARGET = 'sip-peer.test';

export interface LoopbackDns {
  close(): Promise<void>;
}

export async function useLoopbackDns(options: { address: string; port: number }): Promise<LoopbackDns> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (query, remote) => {
    const answer = answerTo(query, options);
    if (answer) socket.send(answer, remote.port, remote.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const previous = dns.getServers();
  dns.setServers([`127.0.0.1:${socket.address().port}`]);
  return {
    async close() {
      dns.setServers(previous);
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}

function answerTo(query: Buffer, options: { address: string; port: number }): Buffer | null {
  if (query.length < 12) return null;
  const { name, end } = readName(query, 12);
  const type = query.readUInt16BE(end);
  const question = query.subarray(12, end + 4);
  let record: Buffer | null = null;
  if (type === TYPE_A) record = rr(TYPE_A, Buffer.from(options.address.split('.').map(Number)));
  else if (type === TYPE_SRV && name.toLowerCase().startsWith('_sip._udp.')) {
    const fixed = Buffer.alloc(6);
    fixed.writeUInt16BE(0, 0); // priority
    fixed.writeUInt16BE(0, 2); // weight
    fixed.writeUInt16BE(options.port, 4);
    record = rr(TYPE_SRV, Buffer.concat([fixed, encodeName(TARGET)]));
  }
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  header.writeUInt16BE(0x8180 | (record ? 0 : 3), 2); // a response, recursion available; NXDOMAIN when nothing is known
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(record ? 1 : 0, 6);
  return Buffer.concat([header, question, ...(record ? [record] : [])]);
}

/** A resource record for the question's name (a pointer to offset 12), class IN, TTL 60 s. */
function rr(type: number, data: Buffer): Buffer {
  const fixed = Buffer.alloc(12);
  fixed.writeUInt16BE(0xc00c, 0);
  fixed.writeUInt16BE(type, 2);
  fixed.writeUInt16BE(1, 4);
  fixed.writeUInt32BE(60, 6);
  fixed.writeUInt16BE(data.length, 10);
  return Buffer.concat([fixed, data]);
}

function readName(message: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let i = offset;
  while (i < message.length && message[i]! > 0) {
    labels.push(message.subarray(i + 1, i + 1 + message[i]!).toString('latin1'));
    i += message[i]! + 1;
  }
  return { name: labels.join('.'), end: i + 1 };
}

function encodeName(name: string): Buffer {
  return Buffer.concat([...name.split('.').map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'latin1')])), Buffer.from([0])]);
}
