/**
 * Nchf_ConvergedCharging messages (3GPP TS 32.291, API v3) for immediate event charging (IEC):
 * the subset of `ChargingDataRequest`/`ChargingDataResponse` the CMR Server sends and reads.
 * Pure: building a request and reading an answer, no I/O.
 *
 * CMR rates its own events (catalog prices), so the requested service-specific units are the
 * price in minor units; the rating group tells the CHF which CMR activity it is.
 */
import { createHash } from 'node:crypto';
import type { Identity } from '../domain/identity.js';
import type { ActivityKind } from '../domain/types.js';
import type { ChargeOutcome, ChargeRequest, Invocation } from './charging-port.js';

export const CHARGING_DATA_PATH = '/nchf-convergedcharging/v3/chargingdata';

/** Rating group of each CMR activity, as provisioned on the CHF. */
export const RATING_GROUPS: Record<ActivityKind, number> = {
  subscribe: 7100,
  renew: 7101,
  cancel: 7102,
  expire: 7103,
  'update-entry': 7104,
  'box-subscribe': 7110,
  'box-define': 7111,
  'box-update': 7112,
  'box-delete': 7113,
  'copy-online': 7120,
  'copy-offline': 7121,
  gift: 7130,
  preferences: 7140,
  privacy: 7141,
  catalog: 7150,
  client: 7151,
};

export interface NfIdentification {
  nodeFunctionality: string;
  nFName?: string;
  nFFqdn?: string;
}

export interface MultipleUnitUsage {
  ratingGroup: number;
  requestedUnit?: { serviceSpecificUnits?: number };
}

export interface ImsChargingInformation {
  iMSNodeFunctionality?: string;
  roleOfNode?: string;
  eventType?: { sIPMethod?: string };
  userInformation?: { servedGPSI?: string };
  callingPartyAddresses?: string[];
  calledPartyAddress?: string;
  applicationServerInformation?: string[];
  imsChargingIdentifier?: string;
  userSessionID?: string;
}

export interface ChargingDataRequest {
  subscriberIdentifier?: string;
  nfConsumerIdentification: NfIdentification;
  invocationTimeStamp: string;
  invocationSequenceNumber: number;
  retransmissionIndicator?: boolean;
  oneTimeEvent?: boolean;
  oneTimeEventType?: string;
  serviceSpecificationInfo?: string;
  multipleUnitUsage?: MultipleUnitUsage[];
  iMSChargingInformation?: ImsChargingInformation;
}

export interface MultipleUnitInformation {
  ratingGroup: number;
  resultCode?: string;
  grantedUnit?: { serviceSpecificUnits?: number };
}

export interface ProblemDetails {
  status?: number;
  cause?: string;
  detail?: string;
  title?: string;
}

export interface ChargingDataResponse {
  invocationTimeStamp: string;
  invocationSequenceNumber: number;
  invocationResult?: { error?: ProblemDetails; failureHandling?: string };
  multipleUnitInformation?: MultipleUnitInformation[];
}

/** The consumer identity of this application server: a stable NF instance id derived from its name. */
export function consumerIdentification(asIdentity: string): NfIdentification {
  return { nodeFunctionality: 'IMS_Node', nFName: nameBasedUuid(asIdentity) };
}

export function chargingDataRequest(request: ChargeRequest, invocation: Invocation, asIdentity: string): ChargingDataRequest {
  const ratingGroup = RATING_GROUPS[request.kind];
  const ims: ImsChargingInformation = {
    iMSNodeFunctionality: 'AS',
    roleOfNode: 'TERMINATING',
    applicationServerInformation: [asIdentity],
    imsChargingIdentifier: invocation.chargeId,
  };
  const gpsi = gpsiOf(request.subscriber);
  if (gpsi) ims.userInformation = { servedGPSI: gpsi };
  if (request.calling) ims.callingPartyAddresses = [request.calling];
  if (request.called) ims.calledPartyAddress = request.called;
  if (request.callId) {
    ims.userSessionID = request.callId;
    ims.eventType = { sIPMethod: request.channel === 'sip' ? 'INFO' : 'INVITE' };
  }
  return {
    subscriberIdentifier: request.subscriber,
    nfConsumerIdentification: consumerIdentification(asIdentity),
    invocationTimeStamp: invocation.timestamp,
    invocationSequenceNumber: invocation.sequenceNumber,
    ...(invocation.retransmission ? { retransmissionIndicator: true } : {}),
    oneTimeEvent: true,
    oneTimeEventType: 'IEC',
    serviceSpecificationInfo: `cmr:${request.kind}`,
    multipleUnitUsage: [{ ratingGroup, requestedUnit: { serviceSpecificUnits: request.amount } }],
    iMSChargingInformation: ims,
  };
}

/**
 * Reads the CHF's answer: 201 with result code SUCCESS for the rating group is a grant; a refusal
 * code (in the unit information or, for 4xx, the problem's `cause`) is a denial; 5xx, redirects and
 * unreadable answers leave the outcome unavailable.
 */
export function interpretAnswer(
  status: number,
  body: unknown,
  request: ChargeRequest,
  invocation: Invocation,
  location?: string,
): ChargeOutcome {
  const { chargeId } = invocation;
  const unavailable = (reason: string): ChargeOutcome => ({ status: 'unavailable', chargeId, reason, retryAfterSec: 5 });
  const answer = isObject(body) ? (body as Partial<ChargingDataResponse> & ProblemDetails) : undefined;
  const unit = answer?.multipleUnitInformation?.find((u) => u.ratingGroup === RATING_GROUPS[request.kind]) ?? answer?.multipleUnitInformation?.[0];
  const resultCode = typeof unit?.resultCode === 'string' ? unit.resultCode : undefined;

  if (status === 201) {
    if (resultCode === 'SUCCESS') {
      return { status: 'granted', chargeId, amount: request.amount, currency: request.currency, ...(location ? { reference: location } : {}) };
    }
    if (resultCode) return { status: 'denied', chargeId, reason: resultCode };
    return unavailable('CHF answer without a result code');
  }
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
    const cause = resultCode ?? answer?.invocationResult?.error?.cause ?? answer?.cause;
    return { status: 'denied', chargeId, reason: typeof cause === 'string' && cause ? cause : `HTTP_${status}` };
  }
  return unavailable(`CHF answered HTTP ${status}`);
}

/** `msisdn-<digits>` for a tel identity (the GPSI of TS 29.571), else nothing. */
function gpsiOf(identity: Identity): string | undefined {
  const tel = /^tel:\+(\d{5,15})$/.exec(identity);
  return tel ? `msisdn-${tel[1]}` : undefined;
}

/** A UUID (RFC 4122 layout, version 5 bits) derived from a name, so the NF instance id is stable. */
function nameBasedUuid(name: string): string {
  const hex = createHash('sha1').update(`cmr-as:${name}`).digest('hex').slice(0, 32).split('');
  hex[12] = '5';
  hex[16] = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
