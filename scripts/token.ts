/**
 * Prints a bearer token for local use:
 *   npm run token -- --sub tel:+15551230001 --role user [--ttl 3600]
 * Signed with CMR_JWT_SECRET (or the development secret of config/default.json).
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/config.js';
import { signToken } from '../src/http/tokens.js';

const { values } = parseArgs({
  options: { sub: { type: 'string' }, role: { type: 'string', default: 'user' }, ttl: { type: 'string', default: '86400' } },
});
if (!values.sub || (values.role !== 'user' && values.role !== 'sp')) {
  process.stderr.write('usage: npm run token -- --sub <identity> --role user|sp [--ttl seconds]\n');
  process.exit(2);
}
const config = loadConfig();
process.stdout.write(`${signToken(config.auth.jwtSecret, { sub: values.sub, role: values.role }, Number(values.ttl))}\n`);
