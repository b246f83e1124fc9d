/**
 * Settings are declared once (`src/config/settings.ts`): the README's table is the one generated
 * from them, every `CMR_*` variable the server's code names is one of them, and a
 * `config/local.json` sets them by name under the environment.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { SETTINGS } from '../../src/config/settings.js';
import { withSettingsTable } from '../../scripts/settings-table.js';

async function sources(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => join(e.parentPath, e.name));
}

describe('settings', () => {
  it("are the README's table, as generated (npx tsx scripts/settings-table.ts --write)", async () => {
    const readme = await readFile('README.md', 'utf8');
    expect(readme).toBe(withSettingsTable(readme));
  });

  it('include every CMR_* variable the code names', async () => {
    const files = [...(await sources('src')), ...(await sources('sip')), ...(await sources('scripts'))];
    const named = new Set<string>();
    for (const file of files) for (const [name] of (await readFile(file, 'utf8')).matchAll(/\bCMR_[A-Z0-9_]*[A-Z0-9]\b/g)) named.add(name);
    expect(named.size).toBeGreaterThan(20);
    expect([...named].filter((name) => !(name in SETTINGS))).toEqual([]);
  });

  it('are read from config/local.json under the environment, and an unknown name there is refused', () => {
    const file = { CMR_HTTP_PORT: 9090, CMR_LOG_PRETTY: true, CMR_SIP_TRUSTED: ['10.0.0.0/8', '::1/128'] };
    const fromFile = loadConfig({}, file);
    expect({ port: fromFile.http.port, pretty: fromFile.log.pretty, trusted: fromFile.sip.trusted.map((c) => c.text) }).toEqual({ port: 9090, pretty: true, trusted: ['10.0.0.0/8', '::1/128'] });
    expect(loadConfig({ CMR_HTTP_PORT: '9191' }, file).http.port).toBe(9191);
    expect(() => loadConfig({}, { CMR_HTTP_PROT: 9090 })).toThrow(ConfigError);
    expect(() => loadConfig({}, { CMR_HTTP_PORT: 'ninety' })).toThrow(/CMR_HTTP_PORT: must be an integer from 0 to 65535/);
  });
});
