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
 * Authentication runs in two steps around the rate limiter (see `app.ts`): first the tokens the
 * server can check on its own (HS256, or a provider key it holds) are verified, so the limiter
 * counts a valid token by its `sub` and anything else by its address; then, once the limiter let
 * the request through, a token that needs the provider's keys read is verified, and a request with
 * no valid token is answered 401 (503 while the provider's keys cannot be read). So no request
 * makes the server ask the identity provider before the address's limit is counted. The `{uid}`
 * path parameter is normalised here, so handlers receive the canonical identity.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createDecoder, createVerifier, TokenError } from 'fast-jwt';
import fp from 'fastify-plugin';
import type { Config } from '../../config/config.js';
import { CmrError } from '../../domain/errors.js';
import { parseIdentity, type Identity } from '../../domain/identity.js';
import type { ActivityRecord } from '../../domain/types.js';
import { ProviderKeys } from '../provider-keys.js';

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
    /** A token verified only after the rate limiter: checking it needs the identity provider's keys read. */
    tokenAfterLimit: string | null;
    /** Canonical `{uid}` of the route, when it has one. */
    uid: Identity;
  }
}

type Claims = Record<string, unknown>;

export interface TokenVerifier {
  /** Whether checking `token` needs the identity provider's keys read (no I/O; a malformed token does not). */
  needsProvider(token: string): boolean;
  verify(token: string): Promise<Principal>;
}

/** The server's own tokens, and those of the identity provider when one is configured. */
export function tokenVerifier(auth: Config['auth']): TokenVerifier {
  // Beside an identity provider, the development secret is never a way in.
  const secret = auth.jwks && auth.usingDefaultSecret ? null : auth.jwtSecret;
  const local = secret ? createVerifier({ key: secret, algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] }) : null;
  const provider = auth.jwks ? identityProvider(auth.jwks) : null;
  const decodeHeader = createDecoder({ complete: true });
  const headerOf = (token: string): { alg?: unknown; kid?: unknown } => (decodeHeader(token) as { header: { alg?: unknown; kid?: unknown } }).header;
  const providerFor = (alg: unknown) => (alg === 'RS256' || alg === 'ES256' ? provider : null);

  return {
    needsProvider(token) {
      try {
        const { alg, kid } = headerOf(token);
        const signer = providerFor(alg);
        return signer !== null && !signer.holds(typeof kid === 'string' ? kid : '');
      } catch {
        return false;
      }
    },
    async verify(token) {
      let alg: unknown;
      try {
        alg = headerOf(token).alg;
      } catch (err) {
        throw invalid(err);
      }
      let claims: Claims;
      let role: unknown;
      const signer = providerFor(alg);
      if (alg === 'HS256' && local) {
        claims = verified(() => local(token) as Claims);
        role = claims['role'];
      } else if (signer) {
        claims = await signer.verify(token);
        role = signer.roleOf(claims);
      } else {
        throw new CmrError('unauthorized', `invalid bearer token: tokens signed with ${String(alg)} are not accepted`);
      }
      checkLifetime(claims, auth.maxTtlSec);
      return { ...principalFrom(claims['sub'], role), expiresAt: claims['exp'] as number };
    },
  };
}

function identityProvider(jwks: NonNullable<Config['auth']['jwks']>) {
  const keys = new ProviderKeys(jwks.url);
  const verify = createVerifier({
    algorithms: ['RS256', 'ES256'],
    allowedIss: jwks.issuer,
    allowedAud: jwks.audience,
    requiredClaims: ['exp', 'sub'],
    key: async ({ header }: { header: Record<string, unknown> }) => keys.publicKey(typeof header['kid'] === 'string' ? header['kid'] : '', String(header['alg'])),
  });
  const path = jwks.roleClaim.split('.');
  return {
    holds: (kid: string) => keys.holds(kid),
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
  const tokens = tokenVerifier(opts.auth);
  app.decorateRequest('principal', null);
  app.decorateRequest('unidentified', null);
  app.decorateRequest('tokenAfterLimit', null);
  app.decorateRequest('uid', '' as Identity);

  const identify = async (request: FastifyRequest, token: string) => {
    try {
      request.principal = await tokens.verify(token);
    } catch (err) {
      if (!(err instanceof CmrError) || err.code !== 'unauthorized') throw err;
      request.unidentified = err;
    }
  };

  // Step 1: who sends the request, as far as the server can tell on its own (the rate limiter runs
  // next, in each route's own onRequest hooks, then step 2).
  app.addHook('onRequest', async (request) => {
    const access: Access = request.routeOptions.config.access ?? 'sp';
    if (access === 'public' || request.is404) return;
    let token: string;
    try {
      token = bearerToken(request);
    } catch (err) {
      request.unidentified = err as CmrError;
      return;
    }
    if (tokens.needsProvider(token)) request.tokenAfterLimit = token;
    else await identify(request, token);
  });

  // Step 2, after the rate limiter and before the body is read: a token that needs the provider's
  // keys is verified now; a request that needs a token and has no valid one is 401.
  app.addHook('preParsing', async (request, _reply, payload) => {
    if (request.tokenAfterLimit) await identify(request, request.tokenAfterLimit);
    if (request.unidentified) throw request.unidentified;
    return payload;
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
