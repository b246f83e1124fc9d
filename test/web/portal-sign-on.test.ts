/// <reference lib="dom" />
/**
 * The CMR Portal signed in by the operator's identity provider, unchanged: RS256 and ES256 tokens
 * verified against the provider's JWKS (a real local HTTP server), in Chromium against the real
 * server and Redis. While the provider is down the page says so in the server's words and keeps
 * the token; once it is back, the same tab signs in.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestIdentityProvider } from '../support/identity-provider.js';
import { openPage, startPortalBrowser, type PortalBrowser } from '../support/portal-browser.js';

const ALICE = 'tel:+15551230001';
const idp = new TestIdentityProvider();
let portal: PortalBrowser;

beforeAll(async () => {
  await idp.start();
  portal = await startPortalBrowser({ env: { CMR_JWT_JWKS_URL: idp.url, CMR_JWT_ISSUER: idp.issuer, CMR_JWT_AUDIENCE: idp.audience, CMR_JWT_ROLE_CLAIM: 'cmr.roles' } });
}, 60_000);
afterAll(async () => {
  await portal?.close();
  await idp.stop();
});

/** Reloads until the page shows the heading: the provider's pause after a failure is the server's to end. */
async function reloadUntil(page: Page, heading: string): Promise<void> {
  await expect
    .poll(
      async () => {
        await page.reload();
        await page.getByRole('heading', { level: 1 }).first().waitFor();
        return page.getByRole('heading', { level: 1, name: heading }).count();
      },
      { timeout: 20_000, interval: 1000 },
    )
    .toBe(1);
}

describe("the portal with the operator's identity provider", () => {
  it('says why it cannot sign in while the provider is down, keeps the token, and signs in once it is back', async () => {
    const page = await portal.newPage();
    idp.up = false;
    try {
      await page.goto(portal.link(idp.sign({ sub: ALICE, cmr: { roles: ['user'] } })));
      await page.getByRole('heading', { level: 1, name: 'Sign in to the CMR Portal' }).waitFor();
      expect(await page.getByRole('alert').textContent()).toMatch(
        /^Could not sign you in: the server cannot check the access token now: the identity provider's keys cannot be read \(it answered 503\): try again shortly\. Your access token is kept/,
      );
    } finally {
      idp.up = true;
    }
    await reloadUntil(page, 'Library');
    expect(await page.getByRole('banner').textContent()).toContain(ALICE);
    await page.close();
  });

  it("lets the SP in with an ES256 token and follows Live activity over the provider's sign-in", async () => {
    const page = await portal.newPage();
    await page.goto(portal.link(idp.sign({ sub: 'operator-7', cmr: { roles: ['offline_access', 'sp'] } }, { alg: 'ES256' })));
    await page.getByRole('heading', { level: 1, name: 'Catalog management' }).waitFor();
    expect(await page.getByRole('banner').textContent()).toContain('operator-7');
    await openPage(page, 'Live activity');
    await page.getByTestId('stream-state').filter({ hasText: 'Live:' }).waitFor();
    await portal.ctx.services.activities.record({ actor: 'sp:operator-7', subject: null, kind: 'catalog', channel: 'portal' });
    await page.getByRole('row').filter({ hasText: 'sp:operator-7' }).waitFor({ timeout: 2000 });
    await page.close();
  });
});
