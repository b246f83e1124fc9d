/**
 * Reconciles the test CHF's ledger with what the server applied and recorded, for a set of users:
 * every event the CHF charged has exactly one granted charge record and its library entries (one
 * per resource paid for), and every copied or subscribed entry and every granted online charge
 * record has its charge in the ledger, charged once. Returns the discrepancies found (none: []).
 */
import type { Identity } from '../../src/domain/identity.js';
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

  let paidEntries = 0;
  let grantedRecords = 0;
  for (const uid of wanted) {
    const user = uid as Identity;
    const entries = (await services.users.library(user).all()).filter((e) => e.chargeId !== undefined);
    const records = (await services.charges.forUser(user, 10_000)).items;
    const granted = records.filter((r) => r.outcome === 'granted' && r.mode === 'nchf');
    paidEntries += entries.length;
    grantedRecords += granted.length;
    for (const record of granted) {
      if (!ledgerIds.has(record.id)) problems.push(`granted record ${record.id} of ${user} has no charge at the CHF`);
      const paid = entries.filter((e) => e.chargeId === record.id).map((e) => e.resourceId).sort();
      if (paid.join() !== [...record.resourceIds].sort().join()) {
        problems.push(`charge ${record.id} of ${user} paid for [${record.resourceIds.join()}] but applied [${paid.join()}]`);
      }
    }
    for (const entry of entries) {
      const record = records.find((r) => r.id === entry.chargeId);
      if (!record || record.outcome !== 'granted') problems.push(`entry ${entry.id} of ${user} has no granted charge record (${entry.chargeId})`);
      else if (record.mode === 'nchf' && !ledgerIds.has(record.id)) problems.push(`entry ${entry.id} of ${user} was never charged by the CHF`);
    }
    for (const event of ledger.filter((e) => e.subscriber === user)) {
      const record = granted.find((r) => r.id === event.chargeId);
      if (!record) problems.push(`CHF charged ${user} ${event.amount} (${event.chargeId}) but no granted record exists`);
      else if (record.amount !== event.amount) problems.push(`charge ${record.id}: CHF charged ${event.amount}, record says ${record.amount}`);
    }
  }
  return { charged: ledger.length, paidEntries, grantedRecords, problems };
}
