/**
 * Where tone content may be fetched from. Public addresses always; private, loopback,
 * link-local and other non-public ones only when `CMR_MEDIA_ALLOW_HOSTS` names the host or a
 * range holding the address, so a catalog entry cannot make the server fetch internal URLs.
 * The check is made on the addresses the connection actually uses (see `policyLookup`), not on
 * an earlier resolution a DNS answer could change.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { isTrusted, parseCidr, parseCidrList, type Cidr } from '../config/cidr.js';

/** Addresses that are not the public internet (RFC 6890 and friends). */
const NON_PUBLIC = parseCidrList(
  [
    '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24', '192.168.0.0/16',
    '198.18.0.0/15', '224.0.0.0/4', '240.0.0.0/4', '::/128', '::1/128', 'fc00::/7', 'fe80::/10', 'ff00::/8', '64:ff9b::/96',
  ].join(','),
);

export class HostPolicy {
  private readonly hosts = new Set<string>();
  private readonly ranges: Cidr[] = [];

  /** `allow`: comma-separated host names and CIDRs (a bare address is a /32 or /128); throws on a bad entry. */
  constructor(allow: string) {
    for (const entry of allow.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
      const address = entry.split('/')[0]!;
      if (isIP(address)) this.ranges.push(parseCidr(entry));
      else if (/^[A-Za-z0-9.-]+$/.test(entry) && !entry.includes('/')) this.hosts.add(entry.toLowerCase());
      else throw new Error(`"${entry}" is neither a host name nor a CIDR`);
    }
  }

  /** The host is allowed by name whatever it resolves to. */
  allowsName(host: string): boolean {
    return this.hosts.has(host.toLowerCase());
  }

  allowsAddress(address: string): boolean {
    return !isTrusted(address, NON_PUBLIC) || isTrusted(address, this.ranges);
  }

  /** Why fetching from `url` is refused before any connection (an address in the URL itself), or null. */
  refusal(url: URL): string | null {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `${url.protocol} is not http(s)`;
    if (isIP(host) && !this.allowsName(host) && !this.allowsAddress(host)) return `${host} is not a public address`;
    return null;
  }

  /** A `lookup` for sockets (net/tls `connect`): resolves as usual and refuses non-public addresses not allowed. */
  readonly policyLookup = (hostname: string, options: LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, options.all ? [] : '');
      const usable = this.allowsName(hostname) ? addresses : addresses.filter((a) => this.allowsAddress(a.address));
      if (usable.length === 0) {
        const refused = Object.assign(new Error(`${hostname} resolves to no public address (allow it with CMR_MEDIA_ALLOW_HOSTS)`), { code: 'EHOSTREFUSED' });
        return callback(refused, options.all ? [] : '');
      }
      if (options.all) return callback(null, usable);
      callback(null, usable[0]!.address, usable[0]!.family);
    });
  };
}
