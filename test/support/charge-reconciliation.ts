/**
 * Reconciles the test CHF's ledger with what the server applied and recorded, for a set of users:
 * every event the CHF charged has exactly one granted charge record and its library entries (one
 * per resource paid for, in whichever of these users' libraries: a gift lands in the receiver's),
 * and every paid-for entry and every granted online charge record has its charge in the ledger,
 * charged once. Returns the discrepancies found (none: []).
 */
import type { Identity } from '../../src/domain/identity.js';
import type { ChargeRecord, LibraryEntry } from '../../src/domain/types.js';
import type { Services } from '../../src/wiring.js';
import type { TestChf } from './test-chf.js';

export interface Reconciliation {
  /** Events the CHF charged for these users. */
  charged: number;
  /** Library entries paid for by a charge. */
  paidEntries: number;
  /** Granted online charge records. */
  grantedRecords: number;
  problems: string[];
}

export async function reconcile(services: Services, chf: TestChf, users: Iterable<Identity>): Promise<Reconciliation> {
  const wanted = new Set<string>(users);
  const ledger = chf.ledger().filter((event) => wanted.has(event.subscriber));
  const problems: string[] = [];
  const ledgerIds = new Map<string, number>();
  for (const event of ledger) {
    if (!event.chargeId) problems.push(`CHF charged ${event.subscriber} seq ${event.sequenceNumber} without a charge id`);
    else ledgerIds.set(event.chargeId, (ledgerIds.get(event.chargeId) ?? 0) + 1);
  }
  for (const [chargeId, times] of ledgerIds) if (times > 1) problems.push(`charge ${chargeId} charged ${times} times by the CHF`);

  // Entries and records are matched by charge id across the users: a gift is paid by one user
  // and lands in another's library.
  const entries: Array<LibraryEntry & { holder: Identity }> = [];
  const records: ChargeRecord[] = [];
  for (const uid of wanted) {
    const user = uid as Identity;
    for (const entry of await services.users.library(user).all()) if (entry.chargeId !== undefined) entries.push({ ...entry, holder: user });
    records.push(...(await services.charges.forUser(user, 10_000)).items);
  }
  const granted = records.filter((r) => r.outcome === 'granted' && r.mode === 'nchf');
  for (const record of granted) {
    if (!ledgerIds.has(record.id)) problems.push(`granted record ${record.id} of ${record.subscriber} has no charge at the CHF`);
    const paid = entries.filter((e) => e.chargeId === record.id).map((e) => e.resourceId).sort();
    if (paid.join() !== [...record.resourceIds].sort().join()) {
      problems.push(`charge ${record.id} of ${record.subscriber} paid for [${record.resourceIds.join()}] but applied [${paid.join()}]`);
    }
  }
  for (const entry of entries) {
    const record = records.find((r) => r.id === entry.chargeId);
    if (!record || record.outcome !== 'granted') problems.push(`entry ${entry.id} of ${entry.holder} has no granted charge record (${entry.chargeId})`);
    else if (record.mode === 'nchf' && !ledgerIds.has(record.id)) problems.push(`entry ${entry.id} of ${entry.holder} was never charged by the CHF`);
  }
  for (const event of ledger) {
    const record = granted.find((r) => r.id === event.chargeId);
    if (!record) problems.push(`CHF charged ${event.subscriber} ${event.amount} (${event.chargeId}) but no granted record exists`);
    else if (record.amount !== event.amount || record.subscriber !== event.subscriber) {
      problems.push(`charge ${record.id}: CHF charged ${event.subscriber} ${event.amount}, record says ${record.subscriber} ${record.amount}`);
    }
  }
  const paidEntries = entries.length;
  const grantedRecords = granted.length;
  return { charged: ledger.length, paidEntries, grantedRecords, problems };
}
