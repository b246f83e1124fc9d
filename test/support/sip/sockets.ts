/** Loopback ports for SIP tests: free ports picked at run time, and a wait until a peer listens. */
import dgram from 'node:dgram';
import { readFile } from 'node:fs/promises';
import net from 'node:net';

/** A port free for both UDP and TCP on `host`. */
export async function freePort(host: string): Promise<number> {
  for (;;) {
    const server = net.createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port));
    });
    const udp = dgram.createSocket('udp4');
    const udpFree = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, host, () => resolve(true));
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (udpFree) return port;
  }
}

/** Waits (with a deadline) until something listens on `host:port` (Linux /proc/net). */
export async function waitForListener(host: string, port: number, protocol: 'udp' | 'tcp', timeoutMs = 5000): Promise<void> {
  const wanted = `${hexAddress(host)}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const table = await readFile(`/proc/net/${protocol}`, 'utf8');
    const listening = table.split('\n').some((line) => {
      const fields = line.trim().split(/\s+/);
      return fields[1] === wanted && (protocol === 'udp' || fields[3] === '0A');
    });
    if (listening) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`nothing listens on ${protocol} ${host}:${port}`);
}

/** /proc/net writes IPv4 addresses as little-endian hex. */
function hexAddress(host: string): string {
  return host
    .split('.')
    .reverse()
    .map((octet) => Number(octet).toString(16).toUpperCase().padStart(2, '0'))
    .join('');
}
