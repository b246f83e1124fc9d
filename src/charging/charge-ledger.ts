/** Reading charge records: one user's (`/v1/users/{uid}/charges`) and all (`/v1/charges`), newest first. */
import { CmrError } from '../domain/errors.js';
import type { Identity } from '../domain/identity.js';
import type { ChargeRecord } from '../domain/types.js';
import type { Keys } from '../store/keys.js';
import { storeCall, type RedisClient } from '../store/redis.js';

export interface Page<T> {
  items: T[];
  /** Cursor of the next page, null on the last one. */
  next: string | null;
}

const CHARGE_ID = /^ch-[0-9A-HJKMNP-TV-Z]{26}$/;

export class ChargeLedger {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  forUser(uid: Identity, limit: number, cursor?: string): Promise<Page<ChargeRecord>> {
    const userKeys = this.keys.user(uid);
    return this.page(userKeys.chargeIndex, userKeys.charges, limit, cursor);
  }

  all(limit: number, cursor?: string): Promise<Page<ChargeRecord>> {
    return this.page(this.keys.chargesAll, this.keys.chargeRecords, limit, cursor);
  }

  /** Charge ids sort by time (ULID), so the index is read by lexical range, newest first. */
  private async page(index: string, records: string, limit: number, cursor?: string): Promise<Page<ChargeRecord>> {
    if (cursor !== undefined && !CHARGE_ID.test(cursor)) throw new CmrError('bad-request', 'cursor is not a charge cursor');
    const ids = await storeCall(() => this.redis.zrevrangebylex(index, cursor ? `(${cursor}` : '+', '-', 'LIMIT', 0, limit));
    if (ids.length === 0) return { items: [], next: null };
    const raws = await storeCall(() => this.redis.hmget(records, ...ids));
    const items = raws.filter((raw): raw is string => raw !== null).map((raw) => JSON.parse(raw) as ChargeRecord);
    return { items, next: ids.length === limit ? ids[ids.length - 1]! : null };
  }
}
