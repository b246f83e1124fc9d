/**
 * Bearer JWT (HS256 only) with claims `sub` (identity) and `role` (`user` | `sp`).
 * Every route declares who may reach it in `config.access`; a route that forgets is SP-only.
 * - `public`: no token (operations endpoints).
 * - `any`: any valid token (catalog reads).
 * - `self`: the user named by the route's `{uid}` or an SP.
 * - `sp`: SP only.
 * The `{uid}` path parameter is normalised here, so handlers receive the canonical identity.
 */
import jwt from '@fastify/jwt';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { CmrError } from '../../domain/errors.js';
import { parseIdentity, type Identity } from '../../domain/identity.js';

export type Access = 'public' | 'any' | 'self' | 'sp';
export type Role = 'user' | 'sp';

export interface Principal {
  sub: string;
  role: Role;
  /** Canonical identity of a `user` principal. */
  identity: Identity | null;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    principal: Principal | null;
    /** Canonical `{uid}` of the route, when it has one. */
    uid: Identity;
  }
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: { sub: string; role: Role };
    user: { sub: string; role: Role; iat?: number; exp?: number };
  }
}

export const authPlugin = fp(async (app: FastifyInstance, opts: { secret: string }) => {
  await app.register(jwt, {
    secret: opts.secret,
    sign: { algorithm: 'HS256' },
    verify: { algorithms: ['HS256'] },
  });
  app.decorateRequest('principal', null);
  app.decorateRequest('uid', '' as Identity);

  app.addHook('onRequest', async (request) => {
    const access: Access = request.routeOptions.config.access ?? 'sp';
    if (access === 'public' || request.is404) return;
    request.principal = await authenticate(request);
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

async function authenticate(request: FastifyRequest): Promise<Principal> {
  if (!request.headers.authorization) throw new CmrError('unauthorized', 'missing bearer token');
  if (!/^bearer\s+\S/i.test(request.headers.authorization)) throw new CmrError('unauthorized', 'the Authorization scheme must be Bearer');
  let claims: { sub?: unknown; role?: unknown };
  try {
    claims = await request.jwtVerify<{ sub?: unknown; role?: unknown }>();
  } catch (err) {
    throw new CmrError('unauthorized', `invalid bearer token: ${(err as Error).message}`);
  }
  if (claims.role !== 'user' && claims.role !== 'sp') throw new CmrError('unauthorized', 'token role must be user or sp');
  if (typeof claims.sub !== 'string' || claims.sub.length === 0) throw new CmrError('unauthorized', 'token has no sub');
  if (claims.role === 'user') {
    const parsed = parseIdentity(claims.sub);
    if (!parsed.ok) throw new CmrError('unauthorized', `token sub is not an identity: ${parsed.reason}`);
    return { sub: claims.sub, role: 'user', identity: parsed.identity };
  }
  const parsed = parseIdentity(claims.sub);
  return { sub: claims.sub, role: 'sp', identity: parsed.ok ? parsed.identity : null };
}

/** The principal of an authenticated route (never null there). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new CmrError('unauthorized', 'missing bearer token');
  return request.principal;
}
