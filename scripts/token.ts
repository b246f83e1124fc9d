/**
 * Prints a bearer token for local use:
 *   npm run token -- --sub tel:+15551230001 --role user [--ttl 3600] [--portal]
 * Signed with CMR_JWT_SECRET (or the development secret of config/default.json). With `--portal`
 * it prints a link that signs the CMR Portal in directly: http://<CMR_HTTP_HOST>:<port>/portal/#token=<JWT>
 * (the token rides in the fragment, which the browser never sends to the server).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/config.js';
import { signToken } from '../src/http/tokens.js';

const { values } = parseArgs({
  options: {
    sub: { type: 'string' },
    role: { type: 'string', default: 'user' },
    ttl: { type: 'string', default: '86400' },
    portal: { type: 'boolean', default: false },
  },
});
if (!values.sub || (values.role !== 'user' && values.role !== 'sp')) {
  process.stderr.write('usage: npm run token -- --sub <identity> --role user|sp [--ttl seconds] [--portal]\n');
  process.exit(2);
}
const config = loadConfig();
const token = signToken(config.auth.jwtSecret, { sub: values.sub, role: values.role }, Number(values.ttl));
process.stdout.write(`${values.portal ? portalLink(config.http.host, config.http.port, token) : token}\n`);

function portalLink(host: string, port: number, jwt: string): string {
  // A server listening on every address is reached on this machine through loopback.
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const authority = reachable.includes(':') ? `[${reachable}]` : reachable;
  return `http://${authority}:${port}/portal/#token=${jwt}`;
}
