/** HS256 bearer tokens as the REST API expects them (for the token script and tests): always with an `exp`. */
import { createSigner } from 'fast-jwt';

export function signToken(secret: string, claims: { sub: string; role: 'user' | 'sp' }, ttlSec = 3600): string {
  if (!Number.isInteger(ttlSec) || ttlSec < 1) throw new RangeError(`a token's lifetime is a positive number of seconds, got ${ttlSec}`);
  return createSigner({ key: secret, algorithm: 'HS256', expiresIn: ttlSec * 1000 })(claims);
}
