/** HS256 bearer tokens as the REST API expects them (for the token script and tests). */
import { createSigner } from 'fast-jwt';

export function signToken(secret: string, claims: { sub: string; role: 'user' | 'sp' }, ttlSec = 3600): string {
  return createSigner({ key: secret, algorithm: 'HS256', expiresIn: ttlSec * 1000 })(claims);
}
