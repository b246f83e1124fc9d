/**
 * The tests' scripted drachtio peer (`test/support/drachtio-peer`, a model of drachtio's wire
 * protocol written for the tests) for the drachtio part, in a process of its own so that its CPU is
 * not counted as the app's (see `peer-process.ts`, which starts it). It plays the SIP network
 * over real UDP and TCP (`sip: true`) and prints `{ "port", "sipHost", "sipPort" }` as one JSON
 * line once listening. Then each `cpu` line on stdin is answered with the process's CPU time so
 * far (`{ "cpuMs" }`); stdin closing ends it.
 */
import readline from 'node:readline';
import { DrachtioPeer } from '../../test/support/drachtio-peer.js';

const secret = process.argv[2];
if (!secret) throw new Error('usage: drachtio-peer-main.ts <secret>');
const peer = await DrachtioPeer.start({ secret, sip: true });
const say = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
say({ port: peer.port, sipHost: peer.sipHost, sipPort: peer.sipPort });
const input = readline.createInterface({ input: process.stdin });
input.on('line', (line) => {
  if (line.trim() !== 'cpu') return;
  const used = process.cpuUsage();
  say({ cpuMs: (used.user + used.system) / 1000 });
});
input.on('close', () => void peer.close().then(() => process.exit(0)));
