/**
 * One Vite build per browser page: `web/<page>/` is built into `dist/web/<page>/` and served at
 * `/<page>/` by the server (`src/http/plugins/web-pages.ts`). JSX is Preact's, compiled by Vite's
 * own transformer (no framework plugin).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { UserConfig } from 'vite';

const webDir = fileURLToPath(new URL('.', import.meta.url));
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

export function pageConfig(page: string): UserConfig {
  return {
    root: `${webDir}${page}`,
    base: `/${page}/`,
    publicDir: false,
    define: { __CMR_VERSION__: JSON.stringify(version) },
    oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
    build: {
      outDir: `${webDir}../dist/web/${page}`,
      emptyOutDir: true,
      target: 'es2022',
      reportCompressedSize: false,
    },
  };
}
