/**
 * The body of an online copy request (contract §3.2), shared by the SIP INFO and REST channels:
 * parsed and checked here, once, into a `CopyAsk`.
 */
import { CmrError } from '../domain/errors.js';
import { parseIdentity, type Identity } from '../domain/identity.js';

export const MAX_COPY_BODY_BYTES = 8 * 1024;
export const MAX_RESOURCE_IDS = 50;
const RESOURCE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface ClientInfo {
  id: string;
  /** Absent only for DTMF requests, which name no client version. */
  version: string | null;
}

/** What a handset asks to copy. */
export interface CopyAsk {
  caller: Identity;
  called: Identity;
  client: ClientInfo;
  /** Subset of what is presented to the requestor; null = everything presented. */
  resourceIds: string[] | null;
}

/** Parses a JSON copy body; throws CmrError 400/413 with a reason fit for a Warning header. */
export function parseCopyBody(body: string): CopyAsk {
  if (Buffer.byteLength(body, 'utf8') > MAX_COPY_BODY_BYTES) {
    throw new CmrError('payload-too-large', `copy request body exceeds ${MAX_COPY_BODY_BYTES} bytes`);
  }
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new CmrError('bad-request', 'copy request body is not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CmrError('bad-request', 'copy request body must be a JSON object');
  }
  const fields = json as Record<string, unknown>;
  return {
    caller: identityField(fields, 'caller'),
    called: identityField(fields, 'called'),
    client: parseClient(fields['client']),
    resourceIds: parseResourceIds(fields['resourceIds']),
  };
}

function identityField(fields: Record<string, unknown>, name: 'caller' | 'called'): Identity {
  if (fields[name] === undefined) throw new CmrError('bad-request', `missing "${name}"`);
  const parsed = parseIdentity(fields[name]);
  if (!parsed.ok) throw new CmrError('bad-request', `"${name}": ${parsed.reason}`);
  return parsed.identity;
}

export function parseClient(value: unknown): ClientInfo {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CmrError('bad-request', 'missing "client" {"id","version"}');
  }
  const { id, version } = value as Record<string, unknown>;
  if (typeof id !== 'string' || !CLIENT_ID.test(id)) throw new CmrError('bad-request', '"client.id" must be a client id');
  if (typeof version !== 'string' || version.length === 0 || version.length > 64) {
    throw new CmrError('bad-request', '"client.version" must be a version string');
  }
  return { id, version };
}

export function parseResourceIds(value: unknown): string[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) throw new CmrError('bad-request', '"resourceIds" must be an array of resource ids');
  if (value.length === 0) throw new CmrError('bad-request', '"resourceIds" must not be empty (omit it to copy everything)');
  if (value.length > MAX_RESOURCE_IDS) throw new CmrError('bad-request', `"resourceIds" holds more than ${MAX_RESOURCE_IDS} ids`);
  for (const id of value) {
    if (typeof id !== 'string' || !RESOURCE_ID.test(id)) throw new CmrError('bad-request', '"resourceIds" must hold resource ids');
  }
  return [...new Set(value as string[])];
}
