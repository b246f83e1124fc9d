/**
 * ULIDs, the ids of charges, activities, requests and catalog items. The `ulid` package draws each
 * of an id's 16 random characters with its own `crypto.getRandomValues` call; here they come from
 * a pool of random bytes refilled in one call: the same randomness at a fraction of the cost on
 * the request path, where every copy makes three ids. `randomHex` draws from the same pool, for the
 * random parts of SIP branches and tags (a transaction or more on every message of a call).
 */
import { randomFillSync } from 'node:crypto';
import { monotonicFactory, ulid } from 'ulid';

const pool = new Uint8Array(4096);
let next = pool.length;

/** The next `count` bytes of the pool, refilled when fewer are left. */
function take(count: number): number {
  if (next + count > pool.length) {
    randomFillSync(pool);
    next = 0;
  }
  const at = next;
  next += count;
  return at;
}

/** A fraction in [0, 1) as `ulid` asks its source for one: a random byte over 256, as the package's own. */
function pooledRandom(): number {
  return pool[take(1)]! / 256;
}

/** `bytes` random bytes as lowercase hex (`randomBytes(bytes).toString('hex')` at a twentieth of its cost). */
export function randomHex(bytes: number): string {
  if (bytes > pool.length) throw new RangeError(`randomHex draws at most ${pool.length} bytes`);
  const at = take(bytes);
  return Buffer.from(pool.buffer, at, bytes).toString('hex');
}

export function newUlid(): string {
  return ulid(undefined, pooledRandom);
}

/** ULIDs that sort in the order they were made, also within one millisecond. */
export function monotonicUlids(): () => string {
  return monotonicFactory(pooledRandom);
}
