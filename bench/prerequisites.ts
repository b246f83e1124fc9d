/**
 * What the benchmark needs and never installs itself: sipp on the PATH and a Redis answering at
 * `CMR_REDIS_URL`. Each missing piece is named with the way to get it.
 */
import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';

export interface Machine {
  sipp: string;
  redis: string;
}

export class MissingPrerequisites extends Error {
  override readonly name = 'MissingPrerequisites';
  constructor(readonly missing: string[]) {
    super(`the benchmark needs:\n${missing.map((m) => `  - ${m}`).join('\n')}\nnothing was installed.`);
  }
}

export async function checkPrerequisites(redisUrl: string): Promise<Machine> {
  const [sipp, redis] = await Promise.all([sippVersion(), redisVersion(redisUrl)]);
  const missing = [
    ...(sipp ? [] : ['sipp 3.x on the PATH (Debian/Ubuntu: apt-get install sip-tester)']),
    ...(redis ? [] : [`a Redis answering at ${redisUrl} (set CMR_REDIS_URL; Debian/Ubuntu: apt-get install redis-server)`]),
  ];
  if (!sipp || !redis) throw new MissingPrerequisites(missing);
  return { sipp, redis };
}

/** "3.6.1", or null when sipp cannot be run. */
function sippVersion(): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn('sipp', ['-v'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', () => resolve(null));
    child.on('close', () => resolve(/SIPp v(\d+\.\d+(?:\.\d+)?)/.exec(output)?.[1] ?? null));
  });
}

async function redisVersion(url: string): Promise<string | null> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const info = await client.info('server');
    return /redis_version:([\d.]+)/.exec(info)?.[1] ?? null;
  } catch {
    return null;
  } finally {
    client.disconnect();
  }
}
