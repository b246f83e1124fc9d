import { decodeTime, isValid } from 'ulid';
import { describe, expect, it } from 'vitest';
import { monotonicUlids, newUlid, randomHex } from '../../src/domain/ids.js';

describe('ids', () => {
  it('are ULIDs of now, each drawn anew across many refills of the random pool', () => {
    const before = Date.now();
    const ids = Array.from({ length: 5000 }, () => newUlid());
    expect(ids.every((id) => isValid(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    // 16 random characters of 32 each: every character is drawn, none stuck on one value.
    const randomParts = ids.map((id) => id.slice(10));
    for (let i = 0; i < 16; i++) expect(new Set(randomParts.map((r) => r[i])).size).toBe(32);
    expect(decodeTime(ids[0]!)).toBeGreaterThanOrEqual(before);
    expect(decodeTime(ids.at(-1)!)).toBeLessThanOrEqual(Date.now());
  });

  it('sort in the order they were made when monotonic, also within one millisecond', () => {
    const next = monotonicUlids();
    const ids = Array.from({ length: 2000 }, () => next());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('random hex of the asked length, each drawn anew across many refills, mixed with the ids', () => {
    // 6 bytes each, interleaved with ULIDs that draw single bytes: no draw may straddle a refill.
    const hex = Array.from({ length: 3000 }, () => (newUlid(), randomHex(6)));
    expect(hex.every((h) => /^[0-9a-f]{12}$/.test(h))).toBe(true);
    expect(new Set(hex).size).toBe(hex.length);
    for (let i = 0; i < 12; i++) expect(new Set(hex.map((h) => h[i])).size).toBe(16);
    expect(() => randomHex(5000)).toThrow(RangeError);
  });
});
