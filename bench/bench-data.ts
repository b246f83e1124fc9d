/**
 * The data the benchmark calls against, written through the stores as the management API would:
 * a called party with presentation rules, a library and a personal box, the catalog behind it,
 * and the registered handset client that copies.
 *
 * The rules are tried on every call: a caller-specific rule, a night-time rule and a holiday
 * rule that do not match the benchmark's callers, then an every-day rule presenting the box, so
 * each call goes through rule matching, box rotation and the catalog check before it presents.
 */
import type { Identity } from '../src/domain/identity.js';
import type { Services } from '../src/wiring.js';
import { HANDSET } from '../test/support/copy-fixtures.js';
import { box, entry, resource, rule, seedCatalog, seedUser } from '../test/support/presentation-fixtures.js';

export const BENCH_CALLED = 'tel:+15552000001' as Identity;
export const BENCH_CALLER = 'tel:+15552000002' as Identity;
export const CLIENT = HANDSET;

/** r-0001 … r-<n>. */
export function resourceId(n: number): string {
  return `r-${String(n).padStart(4, '0')}`;
}

/** Catalog resources r-0001 … r-<count>, all copyable, and the handset client. */
export async function seedCatalogFor(services: Services, count: number): Promise<void> {
  await seedCatalog(
    services,
    Array.from({ length: count }, (_, i) => resource(resourceId(i + 1))),
  );
  await services.clients.create({ id: CLIENT.id, name: 'ACME handset', enabled: true, minVersion: '2.0.0' });
}

/** A called party with `librarySize` library entries (r-0001 …), four rules and a 5-item box. */
export async function seedCalledParty(services: Services, uid: Identity, librarySize: number): Promise<void> {
  const favourites = box('b-favourites', [1, 2, 3, 4, 5].map(resourceId), { mode: 'sequential' });
  await seedUser(services, uid, {
    preferences: {
      timezone: 'Europe/Paris',
      default: { resourceId: resourceId(1) },
      rules: [
        rule('vip', { resourceId: resourceId(10) }, { priority: 1, conditions: { callers: ['tel:+15559990001' as Identity, 'tel:+15559990002' as Identity] } }),
        rule('night', { resourceId: resourceId(20) }, { priority: 2, conditions: { timeOfDay: { from: '03:00', to: '03:01' } } }),
        rule('holidays', { resourceId: resourceId(30) }, { priority: 3, conditions: { dateRange: { from: '2020-12-24', to: '2020-12-26' } } }),
        rule('every-day', { boxId: favourites.id }, { priority: 5, conditions: { daysOfWeek: [1, 2, 3, 4, 5, 6, 7] } }),
      ],
    },
    library: Array.from({ length: librarySize }, (_, i) => entry(resourceId(i + 1))),
    boxes: [favourites],
  });
}

/** Distinct callers `tel:+1555<series><n>` (each copies once, so every copy is charged). */
export function callers(series: number, count: number): Identity[] {
  return Array.from({ length: count }, (_, i) => `tel:+1555${String(series).padStart(3, '0')}${String(i).padStart(6, '0')}` as Identity);
}
