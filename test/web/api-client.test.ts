/**
 * The browser pages' API types (`web/api/openapi.d.ts`) are generated from the app's own
 * `/openapi.json`; the committed file must be exactly what the document gives now, so an API
 * change is either regenerated (`npm run gen:api`) and type-checked against the pages, or fails here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { committedApiTypes, generateApiTypes } from '../../web/api/generate.js';
import { createTestContext, type TestContext } from '../support/context.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx.close());

describe('the generated API client', () => {
  it('matches the OpenAPI document the server serves (run npm run gen:api after an API change)', async () => {
    const document = (await ctx.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const generated = await generateApiTypes(document);
    const committed = await committedApiTypes();
    expect(generated === committed, 'web/api/openapi.d.ts differs from /openapi.json: run npm run gen:api').toBe(true);
  });

  it('changes when the document does', async () => {
    const document = (await ctx.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    delete document.paths['/v1/me'];
    expect(await generateApiTypes(document)).not.toBe(await committedApiTypes());
  });
});
