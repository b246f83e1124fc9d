/**
 * Prints a bearer token for local use, signed with CMR_JWT_SECRET (or the development secret),
 * valid for --ttl seconds (at most CMR_JWT_MAX_TTL_SEC, its default). With `--portal` (or
 * `--handset`) it prints a link that signs the CMR Portal (or the CMR Handset) in directly:
 * http://<CMR_HTTP_HOST>:<port>/portal/#token=<JWT> (the token rides in the fragment, which the
 * browser never sends to the server).
 * Bad usage prints the usage and exits 2, without a stack trace.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { signToken } from '../src/http/tokens.js';

const USAGE = `usage: npm run -s token -- --sub <identity> [--role user|sp] [--ttl <seconds>] [--portal | --handset]

  --sub     the token's subject: a user's identity (tel:+15551230001, sip:alice@example.net), or any name for the SP
  --role    user (default): reaches the user's own data and the catalog; sp: everything
  --ttl     seconds the token is valid (default and most: CMR_JWT_MAX_TTL_SEC)
  --portal  print a link that signs the CMR Portal in with the token, instead of the token
  --handset print a link that signs the CMR Handset (the browser handset) in with the token
`;

function fail(message: string): never {
  process.stderr.write(`token: ${message}\n\n${USAGE}`);
  process.exit(2);
}

let values: { sub?: string; role?: string; ttl?: string; portal?: boolean; handset?: boolean; help?: boolean };
try {
  ({ values } = parseArgs({
    options: {
      sub: { type: 'string' },
      role: { type: 'string', default: 'user' },
      ttl: { type: 'string' },
      portal: { type: 'boolean', default: false },
      handset: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (err) {
  fail((err as Error).message);
}
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

let config;
try {
  config = loadConfig();
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}
const maxTtl = config.auth.maxTtlSec;
if (!values.sub) fail('--sub is required');
if (values.role !== 'user' && values.role !== 'sp') fail(`--role must be user or sp, got "${values.role}"`);
const ttl = values.ttl === undefined ? maxTtl : /^\d+$/.test(values.ttl) ? Number(values.ttl) : NaN;
if (!Number.isInteger(ttl) || ttl < 1 || ttl > maxTtl) fail(`--ttl must be a whole number of seconds from 1 to ${maxTtl} (CMR_JWT_MAX_TTL_SEC), got "${values.ttl}"`);
const token = signToken(config.auth.jwtSecret, { sub: values.sub, role: values.role }, ttl);
const page = values.handset ? 'handset' : values.portal ? 'portal' : null;
process.stdout.write(`${page ? signInLink(page, config.http.host, config.http.port, token) : token}\n`);

function signInLink(page: string, host: string, port: number, jwt: string): string {
  // A server listening on every address is reached on this machine through loopback.
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const authority = reachable.includes(':') ? `[${reachable}]` : reachable;
  return `http://${authority}:${port}/${page}/#token=${jwt}`;
}
