/**
 * The `Warning` header value of a SIP refusal (RFC 3261 §20.43): `399 <host> "<reason>"`. One
 * format for both fronts and the copy port, so a handset reads every refusal alike.
 */
export function sipWarning(host: string, reason: string): string {
  return `399 ${host} "${quotable(reason)}"`;
}

/** A quoted-string safe text: no quotes, backslashes or control characters, bounded length. */
function quotable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/["\\\u0000-\u001f\u007f]/g, "'").slice(0, 200);
}
