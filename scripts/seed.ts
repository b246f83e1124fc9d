/**
 * Loads a small demo into Redis so a newcomer sees something real at once:
 *   npm run seed -- --demo
 * Five catalog resources, two SP boxes, the registered clients (a handset, the CMR Portal and the CMR Handset), and two users
 * (alice tel:+15551230001, bob tel:+15551230002) with libraries and preferences.
 * Idempotent: running it again resets the demo data and leaves everything else alone.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/config.js';
import type { Identity } from '../src/domain/identity.js';
import type { Box, LibraryEntry, Preferences, Resource } from '../src/domain/types.js';
import { createLogger } from '../src/observability/logger.js';
import { createServices } from '../src/wiring.js';

const USAGE = 'usage: npm run seed -- --demo   (loads the demo into CMR_REDIS_URL, namespace CMR_REDIS_NAMESPACE)\n';
let demo = false;
try {
  const { values } = parseArgs({ options: { demo: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  demo = values.demo ?? false;
} catch (err) {
  process.stderr.write(`seed: ${(err as Error).message}\n\n`);
}
if (!demo) {
  process.stderr.write(USAGE);
  process.exit(2);
}

const config = loadConfig();
const services = await createServices(config, createLogger({ ...config.log, level: 'warn' }));
const at = new Date();
const iso = at.toISOString();
const inDays = (days: number) => new Date(at.getTime() + days * 86_400_000).toISOString();

const price = (subscribe: number) => ({ subscribe, renew: Math.round(subscribe * 0.8), copy: Math.round(subscribe / 2), gift: subscribe, currency: 'EUR' });
const resources: Array<Omit<Resource, 'createdAt' | 'updatedAt'>> = [
  { id: 'r-summer', title: 'Summer Breeze', type: 'audio', contentUri: 'https://media.example.net/tones/summer-breeze.mp3', mimeType: 'audio/mpeg', durationSec: 30, categories: ['pop'], rating: 'general', provider: 'acme-music', copyable: true, validityDays: 30, prices: price(199), status: 'available' },
  { id: 'r-jazz', title: 'Late Night Jazz', type: 'audio', contentUri: 'https://media.example.net/tones/late-night-jazz.mp3', mimeType: 'audio/mpeg', durationSec: 28, categories: ['jazz'], rating: 'general', provider: 'acme-music', copyable: true, validityDays: 30, prices: price(149), status: 'available' },
  { id: 'r-rock', title: 'Thunder Riff', type: 'audio', contentUri: 'https://media.example.net/tones/thunder-riff.mp3', mimeType: 'audio/mpeg', durationSec: 25, categories: ['rock'], rating: 'teen', provider: 'stone-records', copyable: false, validityDays: 60, prices: price(249), status: 'available' },
  { id: 'r-sunset', title: 'Sunset Clip', type: 'video', contentUri: 'https://media.example.net/clips/sunset.mp4', mimeType: 'video/mp4', durationSec: 20, categories: ['nature'], rating: 'general', provider: 'vista-video', copyable: true, validityDays: 30, prices: price(299), status: 'available' },
  { id: 'r-card', title: 'Business Card', type: 'image', contentUri: 'https://media.example.net/cards/card.png', mimeType: 'image/png', categories: ['business'], rating: 'general', provider: 'acme-media', copyable: true, validityDays: 365, prices: price(99), status: 'available' },
];
const catalogBoxes: Box[] = [
  { id: 'box-chill', name: 'Chill mix', resourceIds: ['r-summer', 'r-jazz'], mode: 'random', price: 299, currency: 'EUR', validityDays: 30, createdAt: iso, updatedAt: iso },
  { id: 'box-moods', name: 'Moods', resourceIds: ['r-jazz', 'r-sunset', 'r-card'], mode: 'sequential', price: 449, currency: 'EUR', validityDays: 30, createdAt: iso, updatedAt: iso },
];

const alice = 'tel:+15551230001' as Identity;
const bob = 'tel:+15551230002' as Identity;
const entry = (id: string, resourceId: string): LibraryEntry => ({
  id, resourceId, origin: 'subscription', acquiredAt: iso, expiresAt: inDays(30), autoRenew: true, status: 'active',
});
const aliceLibrary = [entry('e-alice-summer', 'r-summer'), entry('e-alice-jazz', 'r-jazz'), entry('e-alice-card', 'r-card')];
const bobLibrary = [entry('e-bob-rock', 'r-rock'), entry('e-bob-sunset', 'r-sunset')];
const alicePreferences: Preferences = {
  timezone: 'Europe/Paris',
  default: { resourceId: 'r-summer' },
  rules: [
    { id: 'rule-bob', priority: 1, enabled: true, conditions: { callers: [bob] }, present: { resourceId: 'r-jazz' } },
    { id: 'rule-evening', priority: 5, enabled: true, conditions: { timeOfDay: { from: '20:00', to: '07:00' } }, present: { resourceId: 'r-jazz' } },
  ],
  filters: [{ id: 'filter-mature', ratings: ['mature'] }],
  privacy: { copy: 'everyone', contacts: [bob], blocked: [], gifts: 'everyone' },
};
const bobPreferences: Preferences = {
  timezone: 'America/New_York',
  default: { resourceId: 'r-sunset' },
  rules: [],
  filters: [],
  privacy: { copy: 'contacts', contacts: [alice], blocked: [], gifts: 'contacts' },
};

try {
  for (const r of resources) {
    const existing = await services.catalog.getMany([r.id]);
    const stored = existing.get(r.id);
    if (stored) await services.catalog.replace(r.id, r);
    else await services.catalog.create(r);
  }
  for (const box of catalogBoxes) await services.catalogBoxes.put(box);
  // The portal copies during calls as the client `cmr-portal` (web/portal/src/pages/calls.tsx),
  // the browser handset as `cmr-handset` (web/handset/src/phone.ts).
  const clients = [
    { id: 'acme-handset', name: 'ACME handset', enabled: true, minVersion: '2.0.0' },
    { id: 'cmr-portal', name: 'CMR Portal', enabled: true, minVersion: '0.1.0' },
    { id: 'cmr-handset', name: 'CMR Handset', enabled: true, minVersion: '0.1.0' },
  ];
  for (const { id, ...clientData } of clients) {
    if (await services.clients.find(id)) await services.clients.replace(id, clientData);
    else await services.clients.create({ id, ...clientData });
  }
  for (const [user, library] of [[alice, aliceLibrary], [bob, bobLibrary]] as const) {
    await services.management.expiryIndex.track(user, ...library);
    for (const e of library) await services.users.library(user).put(e);
  }
  await services.users.putPreferences(alice, alicePreferences);
  await services.users.putPreferences(bob, bobPreferences);
  const held = (library: LibraryEntry[]) => library.map((e) => `${e.id} (${e.resourceId})`).join(', ');
  process.stdout.write(
    [
      `demo loaded into ${config.redis.target.mode === 'single' ? config.redis.url : 'cluster'} (namespace ${config.redis.namespace}):`,
      `  alice      ${alice}: library ${held(aliceLibrary)}; rules ${alicePreferences.rules.map((r) => r.id).join(', ')}`,
      `  bob        ${bob}: library ${held(bobLibrary)}`,
      `  resources  ${resources.map((r) => r.id).join(', ')}`,
      `  boxes      ${catalogBoxes.map((b) => b.id).join(', ')}`,
      `  clients    ${clients.map((c) => `${c.id} (minimum version ${c.minVersion})`).join(', ')}`,
      `  tokens     npm run -s token -- --sub ${alice}   (alice; --sub ${bob} for bob)`,
      `             npm run -s token -- --sub portal-admin --role sp   (the SP)`,
      `  portal     npm run -s token -- --sub ${alice} --portal   (a link that signs alice in)`,
      `  handset    npm run -s token -- --sub ${alice} --handset   (alice's browser handset; --sub ${bob} for bob's)`,
      '',
    ].join('\n'),
  );
} finally {
  await services.close();
}
