/**
 * `GET /v1/me`: who the bearer token names, as the server reads it. Browser pages ask it after
 * sign-in instead of decoding the token, so they work unchanged whatever issued the token and
 * whatever its claims are called.
 */
import { Type } from 'typebox';
import type { App } from '../../app.js';
import { principalOf } from '../../plugins/auth.js';

const Me = Type.Object(
  {
    sub: Type.String({ description: "The token's subject" }),
    role: Type.Union([Type.Literal('user'), Type.Literal('sp')]),
    identity: Type.Union([Type.String(), Type.Null()], { description: 'Canonical identity of a user (null for an SP that is not one)' }),
    expiresAt: Type.String({ format: 'date-time', description: 'When the token expires' }),
  },
  { $id: 'Me', examples: [{ sub: 'tel:+15551230001', role: 'user', identity: 'tel:+15551230001', expiresAt: '2026-12-03T09:30:00.000Z' }] },
);

export async function meRoutes(app: App): Promise<void> {
  app.get(
    '/me',
    { config: { access: 'any' }, schema: { tags: ['auth'], operationId: 'whoAmI', summary: 'Who the token names', response: { 200: Me } } },
    async (request) => {
      const principal = principalOf(request);
      return {
        sub: principal.sub,
        role: principal.role,
        identity: principal.identity,
        expiresAt: new Date(principal.expiresAt * 1000).toISOString(),
      };
    },
  );
}
