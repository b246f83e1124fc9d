/** Waits until a Redis connection (node or cluster) can take commands: connects a lazy one, else awaits `ready`. */
import type { RedisClient } from './redis.js';

export async function whenReady(client: RedisClient, timeoutMs = 5000): Promise<void> {
  if (client.status === 'ready') return;
  if (client.status === 'wait') {
    await client.connect();
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error('Connection is closed: not ready in time')), timeoutMs);
    const onReady = () => finish(null);
    const onEnd = () => finish(new Error('Connection is closed'));
    function finish(err: Error | null) {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('end', onEnd);
      if (err) reject(err);
      else resolve();
    }
    client.once('ready', onReady);
    client.once('end', onEnd);
  });
}
