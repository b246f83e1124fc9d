/**
 * The browser parts (contract §4 "browser"): each page that Vite built into `dist/web/<page>/` at
 * install (`npm run build:web`) is served at `/<page>/`, from the same origin as the API, so the
 * pages need no CORS. Hashed assets are cached for good, the page itself never; the page carries a
 * Content-Security-Policy that lets it load its own code and the catalog's media, nothing else.
 * A page that was not built answers 503 saying how to build it, and the server runs on.
 *
 * The handset page also reads `/handset/sip.json`: where the embedded front takes SIP over
 * WebSocket, and the domain of handsets' SIP URIs. Its policy lets it open that WebSocket.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/config.js';
import { CmrError } from '../../domain/errors.js';

/** Pages served at `/<name>/`, each a Vite project under `web/<name>/`. */
export const WEB_PAGES = ['portal', 'handset'] as const;
type WebPage = (typeof WEB_PAGES)[number];

export const isWebPageUrl = (url: string): boolean => WEB_PAGES.some((page) => url === `/${page}` || url.startsWith(`/${page}/`));

const contentSecurityPolicy = (page: WebPage) =>
  [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    // Resources' contentUri may point anywhere on the web (http or https).
    "img-src 'self' data: http: https:",
    "media-src 'self' http: https: blob:",
    // The handset speaks SIP over WebSocket to the embedded front, on a port of its own.
    page === 'handset' ? "connect-src 'self' ws: wss:" : "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');

/** What the handset page needs to reach the embedded front (`/handset/sip.json`). */
export function handsetSipSettings(sip: Config['sip']): { webSocketPort: number | null; domain: string } {
  return { webSocketPort: sip.wsPort, domain: `${sip.publicHost}:${sip.port}` };
}

/** `dist/web` of the installed package, from the source tree (`src/http/plugins`) or the build (`dist/src/http/plugins`). */
export function builtWebRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return join(dir, 'dist', 'web');
}

export async function webPages(app: FastifyInstance, options: { root?: string; sip?: Config['sip'] } = {}): Promise<void> {
  const root = options.root ?? builtWebRoot();
  const sip = options.sip;
  if (sip) app.get('/handset/sip.json', { schema: { hide: true } }, async (_request, reply) => reply.header('cache-control', 'no-cache').send(handsetSipSettings(sip)));
  for (const page of WEB_PAGES) {
    const dir = join(root, page);
    if (!existsSync(join(dir, 'index.html'))) {
      app.log.warn({ event: 'web-page', page, dir }, `the ${page} is not built: run npm run build:web`);
      const notBuilt = async () => {
        throw new CmrError('dependency-unavailable', `the ${page} is not built on this server: run npm run build:web`, { retryAfterSec: 60 });
      };
      app.get(`/${page}`, { schema: { hide: true } }, notBuilt);
      app.get(`/${page}/*`, { schema: { hide: true } }, notBuilt);
      continue;
    }
    app.get(`/${page}`, { schema: { hide: true } }, (_request, reply) => reply.redirect(`/${page}/`, 301));
    await app.register(fastifyStatic, {
      root: dir,
      prefix: `/${page}/`,
      decorateReply: false,
      schemaHide: true,
      cacheControl: false,
      setHeaders: (reply, path) => {
        if (path.endsWith('.html')) {
          reply.header('cache-control', 'no-cache');
          reply.header('content-security-policy', contentSecurityPolicy(page));
        } else {
          // Vite names every asset by its content hash.
          reply.header('cache-control', 'public, max-age=31536000, immutable');
        }
      },
    });
  }
}
