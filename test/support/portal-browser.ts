/// <reference lib="dom" />
/**
 * The portal in a real browser against the real server: the REST app (with the built portal) of a
 * test context listening on a free loopback port, real Redis under the test's namespace, and
 * Debian's Chromium driven by playwright-core with a fresh profile. One browser per test file;
 * its pages are reused from test to test.
 *
 * The browser may reach only this server: every other host name resolves to nothing, so media
 * URIs of the catalog never leave the machine. Screenshots go to $PORTAL_SHOTS (default
 * <tmp>/portal-shots), at desktop and phone width.
 */
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createTestContext, type TestContext } from './context.js';

export const CHROMIUM = '/usr/bin/chromium';
export const SHOTS_DIR = process.env['PORTAL_SHOTS'] ?? join(tmpdir(), 'portal-shots');
const DESKTOP = { width: 1280, height: 900 };
const PHONE = { width: 390, height: 844 };

export interface PageFindings {
  /** Buttons, links and form controls with no accessible name (their HTML, shortened). */
  unnamed: string[];
  /** The page scrolls sideways at phone width. */
  widerThanPhone: boolean;
}

/** Every interactive element must have a name in the accessibility tree (what a screen reader says). */
async function unnamedControls(page: Page): Promise<string[]> {
  const found: string[] = [];
  for (const role of ['button', 'link', 'textbox', 'combobox', 'checkbox', 'switch', 'spinbutton'] as const) {
    for (const control of await page.getByRole(role).all()) {
      const name = await control.evaluate((el) => {
        const labels = (el as HTMLInputElement).labels;
        return (el.getAttribute('aria-label') ?? '') + (labels ? [...labels].map((l) => l.textContent).join('') : '') + (el.closest('label')?.textContent ?? '') + (['BUTTON', 'A'].includes(el.tagName) ? el.textContent : '');
      });
      if (!name.trim()) found.push((await control.evaluate((el) => el.outerHTML)).slice(0, 120));
    }
  }
  return found;
}

export interface PortalBrowser {
  ctx: TestContext;
  baseUrl: string;
  browser: BrowserContext;
  /** A new tab (its own session storage: one signed-in portal per tab). */
  newPage(): Promise<Page>;
  /** The portal URL that signs `token` in directly (what `npm run token -- --portal` prints). */
  link(token: string): string;
  /** Cuts every open activity stream connection, as a network drop would. */
  dropStreams(): number;
  /**
   * Saves the page at desktop and at phone width, whole, and reports what a keyboard or screen
   * reader user, or a phone, would trip on: controls without an accessible name, and a page wider
   * than the phone's screen.
   */
  inspect(page: Page, name: string): Promise<PageFindings>;
  close(): Promise<void>;
}

export async function startPortalBrowser(options: Parameters<typeof createTestContext>[0] = {}): Promise<PortalBrowser> {
  const ctx = await createTestContext(options);
  const streams = new Set<Socket>();
  ctx.app.server.on('request', (request) => {
    if (request.url?.startsWith('/v1/activities/stream')) {
      streams.add(request.socket);
      request.socket.once('close', () => streams.delete(request.socket));
    }
  });
  const baseUrl = await ctx.app.listen({ host: '127.0.0.1', port: 0 });
  let launched: TestChromium;
  try {
    launched = await startChromium();
  } catch (err) {
    await ctx.close();
    throw err;
  }
  const { browser } = launched;
  await mkdir(SHOTS_DIR, { recursive: true });

  return {
    ctx,
    baseUrl,
    browser,
    newPage: async () => {
      const page = await browser.newPage();
      page.setDefaultTimeout(10_000);
      return page;
    },
    link: (token) => `${baseUrl}/portal/#token=${token}`,
    dropStreams: () => {
      const count = streams.size;
      for (const socket of streams) socket.destroy();
      return count;
    },
    inspect: inspectPage,
    close: async () => {
      await launched.close();
      await ctx.close();
    },
  };
}

/** See `PortalBrowser.inspect` (any page: the portal's, the handset's). */
export async function inspectPage(page: Page, name: string): Promise<PageFindings> {
  await mkdir(SHOTS_DIR, { recursive: true });
  await page.screenshot({ path: join(SHOTS_DIR, `${name}-desktop.png`), fullPage: true });
  const unnamed = await unnamedControls(page);
  await page.setViewportSize(PHONE);
  const widerThanPhone = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  await page.screenshot({ path: join(SHOTS_DIR, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(DESKTOP);
  return { unnamed, widerThanPhone };
}

export interface TestChromium {
  browser: BrowserContext;
  close(): Promise<void>;
}

/**
 * Debian's Chromium with a fresh profile and no tab open, reaching only this machine's loopback
 * (`extraArgs`: e.g. the fake camera and microphone of a WebRTC test).
 */
export async function startChromium(extraArgs: string[] = []): Promise<TestChromium> {
  const profile = await mkdtemp(join(tmpdir(), 'portal-chromium-'));
  let browser: BrowserContext;
  try {
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: DESKTOP,
      locale: 'en-US',
      timezoneId: 'UTC',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
        ...extraArgs,
      ],
    });
  } catch (err) {
    await rm(profile, { recursive: true, force: true });
    throw err;
  }
  // Pages come with one blank tab; the tests open their own.
  for (const blank of browser.pages()) await blank.close();
  return {
    browser,
    close: async () => {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Goes to a page of the portal through its navigation link, as a person would, and waits for its heading. */
export async function openPage(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Portal pages' }).getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { level: 1, name, exact: true }).waitFor();
}
