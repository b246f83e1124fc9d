/**
 * The signing keys of the operator's identity provider (its JWKS, `CMR_JWT_JWKS_URL`), held in
 * memory for the token verifier, and asked for sparingly:
 * - The whole set is read at once and kept for `KEYS_MAX_AGE_MS`. A token naming a `kid` the set
 *   lacks has it read again (the provider rotated its keys), but at most once per
 *   `UNKNOWN_KID_COOLDOWN_MS`: meanwhile an unknown `kid` is refused from memory, so a flood of
 *   tokens with made-up kids costs the provider one request, not one each.
 * - One read at a time, shared by every request waiting for it, abandoned after `READ_TIMEOUT_MS`.
 *   After a failed read the provider is left alone for `RETRY_AFTER_SEC`: tokens that need its
 *   keys are answered 503 with the reason in words (keys read before still verify their tokens).
 * - `holds(kid)` answers without any I/O whether a token can be verified now: the auth plugin
 *   verifies such tokens before the rate limiter and the others only after it.
 */
import { createPublicKey } from 'node:crypto';
import { CmrError } from '../domain/errors.js';

const KEYS_MAX_AGE_MS = 10 * 60_000;
const UNKNOWN_KID_COOLDOWN_MS = 30_000;
const READ_TIMEOUT_MS = 3000;
const RETRY_AFTER_SEC = 5;

interface HeldKey {
  alg: string | undefined;
  pem: string;
}

export class ProviderKeys {
  private keys = new Map<string, HeldKey>();
  private readAt = Number.NEGATIVE_INFINITY;
  /** No read before then: the set was just read, or the provider just failed (`failure`). */
  private quietUntil = Number.NEGATIVE_INFINITY;
  private failure: CmrError | null = null;
  private reading: Promise<void> | null = null;

  constructor(
    private readonly url: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** The key `kid` names is held and fresh: a token signed with it is verified without I/O. */
  holds(kid: string): boolean {
    return this.fresh() && this.keys.has(kid);
  }

  /** The PEM public key `kid` names, for `alg`; read from the provider when not held. */
  async publicKey(kid: string, alg: string): Promise<string> {
    if (!this.holds(kid)) await this.refresh(kid);
    const key = this.keys.get(kid);
    if (!key) throw new CmrError('unauthorized', `invalid bearer token: no key "${kid}" in the identity provider's keys`);
    if (key.alg !== undefined && key.alg !== alg) throw new CmrError('unauthorized', `invalid bearer token: key "${kid}" signs ${key.alg}, not ${alg}`);
    return key.pem;
  }

  private fresh(): boolean {
    return this.now() - this.readAt < KEYS_MAX_AGE_MS;
  }

  /** Reads the set unless it was just read or the provider just failed; a failure is kept only while nothing is held for `kid`. */
  private async refresh(kid: string): Promise<void> {
    if (!this.reading && this.now() >= this.quietUntil) {
      this.reading = this.read().finally(() => {
        this.reading = null;
      });
    }
    try {
      await this.reading;
    } catch {
      // Told below, unless a key read before still serves.
    }
    if (this.failure && !this.keys.has(kid)) throw this.failure;
  }

  private async read(): Promise<void> {
    try {
      this.keys = await fetchKeys(this.url);
      this.readAt = this.now();
      this.failure = null;
      this.quietUntil = this.now() + UNKNOWN_KID_COOLDOWN_MS;
    } catch (err) {
      this.failure =
        (err as Error).name === 'TimeoutError'
          ? new CmrError('dependency-unavailable', `the identity provider did not send its keys within ${READ_TIMEOUT_MS / 1000} s: try again shortly`, { retryAfterSec: RETRY_AFTER_SEC })
          : new CmrError('dependency-unavailable', `the identity provider's keys cannot be read (${(err as Error).message}): try again shortly`, { retryAfterSec: RETRY_AFTER_SEC });
      this.quietUntil = this.now() + RETRY_AFTER_SEC * 1000;
      throw this.failure;
    }
  }
}

/** The signing keys of a JWKS document by `kid` (keys without a kid, for encryption, or unreadable are left out). */
async function fetchKeys(url: string): Promise<Map<string, HeldKey>> {
  const response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(READ_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`it answered ${response.status}`);
  const body = (await response.json().catch(() => null)) as { keys?: unknown } | null;
  if (!Array.isArray(body?.keys)) throw new Error('its answer is not a JWKS');
  const keys = new Map<string, HeldKey>();
  for (const jwk of body.keys as Array<Record<string, unknown>>) {
    if (typeof jwk['kid'] !== 'string' || (jwk['use'] !== undefined && jwk['use'] !== 'sig')) continue;
    try {
      const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
      keys.set(jwk['kid'], { alg: typeof jwk['alg'] === 'string' ? jwk['alg'] : undefined, pem });
    } catch {
      // A key this runtime cannot read is of no use for verifying.
    }
  }
  return keys;
}
