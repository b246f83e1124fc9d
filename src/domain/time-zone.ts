/**
 * Time zones of presentation rules (contract §2): an IANA name such as `Europe/Paris`, stored as
 * the zone names itself (`asia/tokyo` is `Asia/Tokyo`). An offset (`+02:00`), which the runtime
 * would also take, is no zone name: its rules would not follow summer time. Pure: no I/O.
 */

/** What a zone name looks like: a letter first, then letters, digits, `_`, `+`, `-` and `/`. */
const NAME = /^[A-Za-z][A-Za-z0-9_+/-]*$/;
export const TIME_ZONE_MAX_LENGTH = 64;

/** The IANA zone `name` names, in its own spelling, or null when it names none. */
export function canonicalTimeZone(name: string): string | null {
  if (name.length > TIME_ZONE_MAX_LENGTH || !NAME.test(name)) return null;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** Why `name` is no time zone, in words (the API's and the portal's), or null when it is one. */
export function timeZoneProblem(name: string): string | null {
  return canonicalTimeZone(name) === null ? `is not an IANA time zone: ${name} (e.g. Europe/Paris)` : null;
}
