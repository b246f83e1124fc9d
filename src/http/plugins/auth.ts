/**
 * Bearer JWTs with claims `sub` (identity) and `role` (`user` | `sp`), and an `exp` no further
 * than `CMR_JWT_MAX_TTL_SEC` from their issue: HS256 tokens signed with `CMR_JWT_SECRET` (the
 * server's own, `npm run token`), and RS256/ES256 tokens of the operator's identity provider,
 * verified against its JWKS (`CMR_JWT_JWKS_URL`) with its issuer and audience, the role read from
 * a configurable claim. The token's `alg` picks the verifier, and each takes only its own.
 *
 * Every route declares who may reach it in `config.access`; a route that forgets is SP-only.
 * - `public`: no token (operations endpoints).
 * - `any`: any valid token (catalog reads).
 * - `self`: the user named by the route's `{uid}` or an SP.
 * - `sp`: SP only.
 * Authentication runs in two steps around the rate limiter (see `app.ts`): `identify` verifies
 * the token, so the limiter counts a valid token by its `sub` and anything else by its address;
 * then `refuseUnidentified` answers 401. The `{uid}` path parameter is normalised here, so
 * handlers receive the canonical identity.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createDecoder, createVerifier, TokenError } from 'fast-jwt';
import fp from 'fastify-plugin';
import buildGetJwks from 'get-jwks';
import type { Config } from '../../config/config.js';
import { CmrError } from '../../domain/errors.js';
import { parseIdentity, type Identity } from '../../domain/identity.js';
import type { ActivityRecord } from '../../domain/types.js';

export type Access = 'public' | 'any' | 'self' | 'sp';
export type Role = 'user' | 'sp';

export interface Principal {
  sub: string;
  role: Role;
  /** Canonical identity of a `user` principal. */
  identity: Identity | null;
  /** When the token expires, in seconds since the epoch (its `exp`, which every token carries). */
  expiresAt: number;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
    /** Why the request has no principal, on a route that needs one. */
    unidentified: CmrError | null;
    /** Canonical `{uid}` of the route, when it has one. */
    uid: Identity;
  }
}

/** How long a request waits for the identity provider's keys before it is answered 503. */
const JWKS_TIMEOUT_MS = 3000;

type Claims = Record<string, unknown>;

/** The server's own tokens, and those of the identity provider when one is configured. */
export function tokenVerifier(auth: Config['auth']): (token: string) => Promise<Principal> {
  // Beside an identity provider, the development secret is never a way in.
  const secret = auth.jwks && auth.usingDefaultSecret ? null : auth.jwtSecret;
  const local = secret ? createVerifier({ key: secret, algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] }) : null;
  const provider = auth.jwks ? identityProvider(auth.jwks) : null;
  const decodeHeader = createDecoder({ complete: true });

  return async (token) => {
    let alg: unknown;
    try {
      alg = (decodeHeader(token) as { header: { alg?: unknown } }).header.alg;
    } catch (err) {
      throw invalid(err);
    }
    let claims: Claims;
    let role: unknown;
    if (alg === 'HS256' && local) {
      claims = verified(() => local(token) as Claims);
      role = claims['role'];
    } else if ((alg === 'RS256' || alg === 'ES256') && provider) {
      claims = await provider.verify(token);
      role = provider.roleOf(claims);
    } else {
      throw new CmrError('unauthorized', `invalid bearer token: tokens signed with ${String(alg)} are not accepted`);
    }
    checkLifetime(claims, auth.maxTtlSec);
    return { ...principalFrom(claims['sub'], role), expiresAt: claims['exp'] as number };
  };
}

function identityProvider(jwks: NonNullable<Config['auth']['jwks']>) {
  const url = new URL(jwks.url);
  const keys = buildGetJwks({ jwksPath: `${url.pathname}${url.search}`, ttl: 10 * 60_000 });
  const domain = `${url.origin}/`;
  const verify = createVerifier({
    algorithms: ['RS256', 'ES256'],
    allowedIss: jwks.issuer,
    allowedAud: jwks.audience,
    requiredClaims: ['exp', 'sub'],
    key: async ({ header }: { header: Record<string, unknown> }) => {
      const kid = typeof header['kid'] === 'string' ? header['kid'] : '';
      const timeout = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new CmrError('dependency-unavailable', 'the identity provider did not send its keys in time', { retryAfterSec: 5 })), JWKS_TIMEOUT_MS).unref(),
      );
      try {
        return await Promise.race([keys.getPublicKey({ domain, alg: String(header['alg']), kid }), timeout]);
      } catch (err) {
        if (err instanceof CmrError) throw err;
        const code = (err as { code?: string }).code;
        if (code === 'JWK_NOT_FOUND' || code === 'NO_JWKS') throw new CmrError('unauthorized', `invalid bearer token: no key "${kid}" in the identity provider's JWKS`);
        throw new CmrError('dependency-unavailable', `the identity provider's keys cannot be read: ${(err as Error).message}`, { retryAfterSec: 5 });
      }
    },
  });
  const path = jwks.roleClaim.split('.');
  return {
    async verify(token: string): Promise<Claims> {
      try {
        return (await verify(token)) as Claims;
      } catch (err) {
        const cause = err instanceof TokenError ? (err as TokenError & { originalError?: unknown }).originalError : undefined;
        if (cause instanceof CmrError) throw cause;
        throw invalid(err);
      }
    },
    /** The role claim (a dotted path): `sp` or `user`, or a list holding one of them (`sp` first). */
    roleOf(claims: Claims): unknown {
      const value = path.reduce<unknown>((node, key) => (node as Claims | undefined)?.[key], claims);
      if (!Array.isArray(value)) return value;
      return value.includes('sp') ? 'sp' : value.includes('user') ? 'user' : undefined;
    },
  };
}

function verified(verify: () => Claims): Claims {
  try {
    return verify();
  } catch (err) {
    throw invalid(err);
  }
}

const invalid = (err: unknown) => new CmrError('unauthorized', `invalid bearer token: ${(err as Error).message}`);

function checkLifetime(claims: Claims, maxTtlSec: number): void {
  const exp = claims['exp'] as number;
  const iat = typeof claims['iat'] === 'number' ? claims['iat'] : null;
  const now = Date.now() / 1000;
  if (exp - Math.min(now, iat ?? now) > maxTtlSec) {
    throw new CmrError('unauthorized', `invalid bearer token: lives longer than ${maxTtlSec} s (CMR_JWT_MAX_TTL_SEC)`);
  }
}

function principalFrom(sub: unknown, role: unknown): Omit<Principal, 'expiresAt'> {
  if (role !== 'user' && role !== 'sp') throw new CmrError('unauthorized', 'token role must be user or sp');
  if (typeof sub !== 'string' || sub.length === 0) throw new CmrError('unauthorized', 'token has no sub');
  const parsed = parseIdentity(sub);
  if (role === 'user') {
    if (!parsed.ok) throw new CmrError('unauthorized', `token sub is not an identity: ${parsed.reason}`);
    return { sub, role, identity: parsed.identity };
  }
  return { sub, role, identity: parsed.ok ? parsed.identity : null };
}

export const authPlugin = fp(async (app: FastifyInstance, opts: { auth: Config['auth'] }) => {
  const verify = tokenVerifier(opts.auth);
  app.decorateRequest('principal', null);
  app.decorateRequest('unidentified', null);
  app.decorateRequest('uid', '' as Identity);

  // Step 1: who sends the request (the rate limiter runs next, then step 2).
  app.addHook('onRequest', async (request) => {
    const access: Access = request.routeOptions.config.access ?? 'sp';
    if (access === 'public' || request.is404) return;
    try {
      request.principal = await verify(bearerToken(request));
    } catch (err) {
      if (!(err instanceof CmrError) || err.code !== 'unauthorized') throw err;
      request.unidentified = err;
    }
  });

  app.addHook('preValidation', async (request) => {
    const params = request.params as { uid?: string } | undefined;
    if (params?.uid !== undefined) {
      const parsed = parseIdentity(params.uid);
      if (!parsed.ok) throw new CmrError('bad-identity', `uid: ${parsed.reason}`);
      request.uid = parsed.identity;
    }
    const access: Access = request.routeOptions.config.access ?? 'sp';
    const principal = request.principal;
    if (access === 'public' || access === 'any' || principal === null) return;
    if (principal.role === 'sp') return;
    if (access === 'sp') throw new CmrError('forbidden', 'this operation is reserved to the service provider');
    if (principal.identity === null || principal.identity !== request.uid) {
      throw new CmrError('forbidden', "a user may reach only the user's own data");
    }
  });
});

/** Step 2, after the rate limiter and before the body is read: a request that needs a token and has no valid one is 401. */
export async function refuseUnidentified<T>(request: FastifyRequest, _reply: unknown, payload: T): Promise<T> {
  if (request.unidentified) throw request.unidentified;
  return payload;
}

function bearerToken(request: FastifyRequest): string {
  const header = request.headers.authorization;
  if (!header) throw new CmrError('unauthorized', 'missing bearer token');
  if (!/^bearer\s/i.test(header)) throw new CmrError('unauthorized', 'the Authorization scheme must be Bearer');
  const token = header.slice('bearer'.length).trim();
  if (token === '' || /\s/.test(token)) throw new CmrError('unauthorized', 'invalid bearer token: send "Authorization: Bearer <token>"');
  return token;
}

/** Who acts, as activity records name it: the user's identity, or `sp:<sub>` for the SP. */
export function actorOf(request: FastifyRequest): ActivityRecord['actor'] {
  const principal = principalOf(request);
  return principal.role === 'user' && principal.identity ? principal.identity : `sp:${principal.sub}`;
}

/** The principal of an authenticated route (never null there). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new CmrError('unauthorized', 'missing bearer token');
  return request.principal;
}
