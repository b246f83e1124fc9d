/**
 * `GET /v1/me`: who the bearer token names, as the server reads it. Browser pages ask it after
 * sign-in instead of decoding the token, so they work unchanged whatever issued the token and
 * whatever its claims are called.
 */
import { Type } from 'typebox';
import type { App } from '../../app.js';
import { principalOf } from '../../plugins/auth.js';
import { problemResponses } from '../../schemas/common.js';

const Me = Type.Object(
  {
    sub: Type.String({ description: "The token's subject" }),
    role: Type.Union([Type.Literal('user'), Type.Literal('sp')]),
    identity: Type.Union([Type.String(), Type.Null()], { description: 'Canonical identity of a user (null for an SP that is not one)' }),
    expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When the token expires (null: it does not)' }),
  },
  { $id: 'Me' },
);

export async function meRoutes(app: App): Promise<void> {
  app.get(
    '/me',
    { config: { access: 'any' }, schema: { tags: ['auth'], summary: 'Who the token names', response: { 200: Me, ...problemResponses } } },
    async (request) => {
      const principal = principalOf(request);
      const exp = (request.user as { exp?: number } | undefined)?.exp;
      return {
        sub: principal.sub,
        role: principal.role,
        identity: principal.identity,
        expiresAt: typeof exp === 'number' ? new Date(exp * 1000).toISOString() : null,
      };
    },
  );
}
