/**
 * Which in-dialog INFO is a copy request (contract §3.2), decided from its package, content type
 * and body alone. Pure, so both SIP fronts decide alike.
 *
 * - `Info-Package: cmr-copy` → copy; its body must be `application/vnd.cmr.copy+json` (else 415).
 * - `application/dtmf-relay` with `Signal=<copy key>`, or `Info-Package: infoDtmf` with
 *   `application/dtmf` carrying the copy key → copy everything presented (client "dtmf").
 *   Other digits pass through.
 * - Any other `Info-Package` → 469 Bad Info Package.
 * - No package: a `application/vnd.cmr.copy+json` body is still taken as a copy request (handsets
 *   that omit the header); anything else passes through unchanged.
 */
export const COPY_PACKAGE = 'cmr-copy';
export const COPY_CONTENT_TYPE = 'application/vnd.cmr.copy+json';
export const COPY_RESULT_CONTENT_TYPE = 'application/vnd.cmr.copy-result+json';
const DTMF_PACKAGE = 'infodtmf';
const DTMF_RELAY = 'application/dtmf-relay';
const DTMF = 'application/dtmf';

export type InfoKind =
  | { kind: 'pass-through' }
  | { kind: 'copy-json' }
  | { kind: 'copy-dtmf' }
  | { kind: 'unsupported-media-type' }
  | { kind: 'bad-info-package'; infoPackage: string };

export interface InfoShape {
  /** Lower-cased, parameters dropped; null when absent. */
  infoPackage: string | null;
  /** Lower-cased media type, parameters dropped; null when absent. */
  contentType: string | null;
  body: string;
}

export function classifyInfo(info: InfoShape, copyKey: string): InfoKind {
  const pkg = info.infoPackage;
  if (pkg === COPY_PACKAGE) {
    return info.contentType === COPY_CONTENT_TYPE ? { kind: 'copy-json' } : { kind: 'unsupported-media-type' };
  }
  if (pkg === DTMF_PACKAGE) {
    if (info.contentType !== DTMF && info.contentType !== DTMF_RELAY) return { kind: 'unsupported-media-type' };
    return dtmfSignal(info.body) === copyKey ? { kind: 'copy-dtmf' } : { kind: 'pass-through' };
  }
  if (pkg !== null) return { kind: 'bad-info-package', infoPackage: pkg };
  if (info.contentType === COPY_CONTENT_TYPE) return { kind: 'copy-json' };
  if (info.contentType === DTMF_RELAY && dtmfSignal(info.body) === copyKey) return { kind: 'copy-dtmf' };
  return { kind: 'pass-through' };
}

/** The key in a DTMF body: `Signal=*` (dtmf-relay / infoDtmf) or a bare key. */
export function dtmfSignal(body: string): string | null {
  const signal = /^\s*signal\s*=\s*([0-9A-Da-d*#])\s*$/im.exec(body);
  if (signal) return signal[1]!.toUpperCase();
  const bare = /^\s*([0-9A-Da-d*#])\s*$/.exec(body);
  return bare ? bare[1]!.toUpperCase() : null;
}

/** Media type without parameters, lower-cased: `Application/DTMF-Relay; x=1` → `application/dtmf-relay`. */
export function mediaType(header: string | undefined | null): string | null {
  if (!header) return null;
  const type = header.split(';')[0]!.trim().toLowerCase();
  return type.length > 0 ? type : null;
}

/** Info-Package value without parameters, lower-cased. */
export function packageName(header: string | undefined | null): string | null {
  return mediaType(header);
}
