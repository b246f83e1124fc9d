/**
 * Reading SIP header values as text, for both fronts: list headers split into their entries, the
 * URI of a name-addr or addr-spec. Pure functions over strings, so each front feeds them whatever
 * its stack hands it.
 */

/**
 * Splits a header value into its comma-separated entries, ignoring commas inside `<…>` and
 * quoted strings (RFC 3261 §7.3.1: a list header may come as one line or several).
 */
export function headerEntries(value: string | undefined): string[] {
  return value ? listEntries(value).filter((e) => e.length > 0) : [];
}

/** Every comma-separated entry of a list header, empty ones included (`a,,b` has three). */
export function listEntries(value: string): string[] {
  const entries: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted && c === '\\') i++; // a quoted-pair: the next character is taken as it is
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === '<') depth++;
    else if (!quoted && c === '>') depth = Math.max(0, depth - 1);
    else if (!quoted && depth === 0 && c === ',') {
      entries.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  entries.push(value.slice(start).trim());
  return entries;
}

/** The URI of a name-addr (`"Bob" <sip:bob@x>;tag=1`) or addr-spec (`sip:bob@x;tag=1`) entry. */
export function uriOf(entry: string): string {
  const open = entry.indexOf('<');
  if (open >= 0) {
    const close = entry.indexOf('>', open);
    return entry.slice(open + 1, close < 0 ? undefined : close).trim();
  }
  // addr-spec form: everything after the first ';' are header parameters (RFC 3261 §20).
  return entry.split(';')[0]!.trim();
}
