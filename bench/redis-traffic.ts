/**
 * Counts what one Redis connection (ioredis, single node) sends and receives, by wrapping it:
 * - round trips: writes to its socket. ioredis writes a command, a whole pipeline or a script
 *   call (EVAL/EVALSHA) in one write, and the caller waits for its replies, so one write is one
 *   round trip;
 * - commands: commands handed to the connection (each command of a pipeline counts; the
 *   commands a Lua script runs inside Redis do not);
 * - bytes written and read.
 * Only this connection is counted, so other clients of a shared Redis do not blur the figures
 * (which `INFO commandstats` deltas would).
 */
import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import type { RedisClient } from '../src/store/redis.js';

export interface TrafficCounts {
  roundTrips: number;
  commands: number;
  bytesOut: number;
  bytesIn: number;
}

export class RedisTraffic {
  private readonly counts: TrafficCounts = { roundTrips: 0, commands: 0, bytesOut: 0, bytesIn: 0 };
  private readonly restore: Array<() => void> = [];

  constructor(client: RedisClient) {
    if (!(client instanceof Redis) || client.status !== 'ready') throw new Error('counting needs a connected single-node Redis client');
    const counts = this.counts;

    // The client's own methods, wrapped and called back with their `this` (and put back after).
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const sendCommand = client.sendCommand;
    client.sendCommand = function (this: Redis, ...args: Parameters<Redis['sendCommand']>) {
      counts.commands += 1;
      return sendCommand.apply(this, args);
    };
    this.restore.push(() => {
      client.sendCommand = sendCommand;
    });

    const socket = client.stream;
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const write = socket.write;
    socket.write = function (this: Socket, chunk: string | Uint8Array, ...rest: unknown[]) {
      counts.roundTrips += 1;
      counts.bytesOut += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
      return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    };
    const onData = (chunk: Buffer) => (counts.bytesIn += chunk.length);
    socket.on('data', onData);
    this.restore.push(() => {
      socket.write = write;
      socket.off('data', onData);
    });
  }

  snapshot(): TrafficCounts {
    return { ...this.counts };
  }

  /** Counts since `before`. */
  since(before: TrafficCounts): TrafficCounts {
    const now = this.counts;
    return { roundTrips: now.roundTrips - before.roundTrips, commands: now.commands - before.commands, bytesOut: now.bytesOut - before.bytesOut, bytesIn: now.bytesIn - before.bytesIn };
  }

  stop(): void {
    for (const undo of this.restore.reverse()) undo();
  }
}
