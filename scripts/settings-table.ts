/**
 * The README's table of settings, generated from `src/config/settings.ts`:
 *   npx tsx scripts/settings-table.ts           prints it
 *   npx tsx scripts/settings-table.ts --write   writes it into README.md (between its markers)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { settingsTable } from '../src/config/settings.js';

export const START = '<!-- settings: generated from src/config/settings.ts by scripts/settings-table.ts -->';
export const END = '<!-- settings: end -->';

/** The README with its table of settings replaced by the generated one. */
export function withSettingsTable(readme: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no "${START}" … "${END}" block`);
  return `${readme.slice(0, start)}${START}\n${settingsTable()}\n${readme.slice(end)}`;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''))) {
  if (process.argv.includes('--write')) writeFileSync('README.md', withSettingsTable(readFileSync('README.md', 'utf8')));
  else process.stdout.write(`${settingsTable()}\n`);
}
