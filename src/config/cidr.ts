/** CIDR lists for `CMR_SIP_TRUSTED` and `CMR_SIP_ACCESS`: which peers may use the SIP fronts, and how. */
import { isIP } from 'node:net';

export interface Cidr {
  family: 4 | 6;
  /** Network address as a bigint of 32 or 128 bits. */
  network: bigint;
  prefix: number;
  text: string;
}

export function parseCidrList(list: string): Cidr[] {
  return list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(parseCidr);
}

export function parseCidr(text: string): Cidr {
  const [address, prefixText] = text.split('/');
  const family = isIP(address ?? '');
  if (family !== 4 && family !== 6) throw new Error(`"${text}" is not an IPv4 or IPv6 CIDR`);
  const bits = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits || (prefixText !== undefined && !/^\d+$/.test(prefixText))) {
    throw new Error(`"${text}" has a bad prefix length`);
  }
  const value = addressToBigInt(address!, family);
  return { family, network: value & mask(prefix, bits), prefix, text };
}

/** True when `address` (as seen on a socket; IPv4-mapped IPv6 allowed) is in one of `cidrs`. */
export function isTrusted(address: string | undefined, cidrs: readonly Cidr[]): boolean {
  if (!address) return false;
  const plain = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  const family = isIP(plain);
  if (family !== 4 && family !== 6) return false;
  const value = addressToBigInt(plain, family);
  const bits = family === 4 ? 32 : 128;
  return cidrs.some((c) => c.family === family && (value & mask(c.prefix, bits)) === c.network);
}

function mask(prefix: number, bits: number): bigint {
  if (prefix === 0) return 0n;
  return ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
}

function addressToBigInt(address: string, family: 4 | 6): bigint {
  if (family === 4) {
    return address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
  }
  let text = address;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = addressToBigInt(v4[1]!, 4);
    text = text.slice(0, -v4[1]!.length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const missing = 8 - headParts.length - tailParts.length;
  const parts = tail === undefined ? headParts : [...headParts, ...Array<string>(missing).fill('0'), ...tailParts];
  return parts.reduce((acc, part) => (acc << 16n) | BigInt(parseInt(part || '0', 16)), 0n);
}
