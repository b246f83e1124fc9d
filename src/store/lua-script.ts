/**
 * A Lua script run by its SHA1 (EVALSHA), loaded on first use or after a server restart.
 * Every key a script touches is passed in KEYS, so Redis Cluster routes it to the one slot
 * those keys share (callers keep them hash-tagged alike).
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from './redis.js';

export class LuaScript {
  readonly sha: string;

  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** The EVALSHA command, to send in a pipeline; a NOSCRIPT reply (see `isNoScript`) means `run` it instead. */
  command(keys: readonly string[], args: ReadonlyArray<string | number>): [string, ...Array<string | number>] {
    return ['EVALSHA', this.sha, keys.length, ...keys, ...args];
  }

  async run(redis: RedisClient, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!isNoScript(err)) throw err;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/** Redis does not have the script (never loaded, or flushed by a restart). */
export function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}
