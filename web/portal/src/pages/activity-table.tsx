/** Activity records as a table, for the user's history and the SP's live feed. */
import type { FeedItem } from '../../../api/activity-stream';
import { dateTime, money } from '../ui';

/** Detail fields that only repeat what the page shows elsewhere or mean nothing to a reader. */
const HIDDEN = new Set(['entryIds']);

/** A value of a record's detail as text: objects as JSON, never as "[object Object]". */
const wordsOf = (v: unknown): string => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));

/** A record's detail in a few words: the resources, the other party, the charge, the reason of a refusal. */
function detailText(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .filter(([key, v]) => !HIDDEN.has(key) && v !== null && v !== undefined && v !== '' && !(Array.isArray(v) && v.length === 0))
    .map(([key, v]) => {
      if (key === 'charge' && typeof v === 'object') {
        const { amount, currency, outcome } = v as { amount?: number; currency?: string; outcome?: string };
        return `charge: ${amount !== undefined && currency ? money(amount, currency) : '—'}${outcome && outcome !== 'granted' ? ` ${outcome}` : ''}`;
      }
      return `${key}: ${Array.isArray(v) ? v.map(wordsOf).join(', ') : wordsOf(v)}`;
    })
    .join(' · ');
}

export function ActivityTable({ items, caption, showActor = false }: { items: FeedItem[]; caption: string; showActor?: boolean }) {
  return (
    <div class="table-wrap">
      <table class="stack">
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            {showActor && <th scope="col">Who</th>}
            <th scope="col">What</th>
            <th scope="col">Channel</th>
            <th scope="col">Result</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          {items.map(({ cursor, record }) => (
            <tr key={cursor} data-cursor={cursor}>
              <td data-label="When">{dateTime(record.at)}</td>
              {showActor && (
                <td data-label="Who">
                  {record.actor}
                  {record.subject && record.subject !== record.actor ? ` for ${record.subject}` : ''}
                </td>
              )}
              <td data-label="What">{record.kind}</td>
              <td data-label="Channel">{record.channel}</td>
              <td data-label="Result" class={`result-${record.result}`}>{record.result}</td>
              <td data-label="Detail" class="detail">{detailText(record.detail as Record<string, unknown>)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
