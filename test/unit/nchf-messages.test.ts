import { describe, expect, it } from 'vitest';
import type { ChargeRequest, Invocation } from '../../src/charging/charging-port.js';
import { chargingDataRequest, interpretAnswer } from '../../src/charging/nchf-messages.js';
import type { Identity } from '../../src/domain/identity.js';

const request: ChargeRequest = { subscriber: 'sip:alice@example.net' as Identity, kind: 'gift', amount: 250, currency: 'EUR', resourceIds: ['r-1'], channel: 'rest' };
const invocation: Invocation = { chargeId: 'ch-1', sequenceNumber: 7, timestamp: '2030-01-01T00:00:00.000Z', retransmission: false };
const unit = (resultCode: string) => ({ invocationTimeStamp: 't', invocationSequenceNumber: 7, multipleUnitInformation: [{ ratingGroup: 7130, resultCode }] });

describe('interpretAnswer', () => {
  it.each([
    [201, unit('SUCCESS'), 'granted'],
    [201, unit('QUOTA_LIMIT_REACHED'), 'denied'],
    [201, unit('END_USER_SERVICE_REJECTED'), 'denied'],
    [201, { invocationTimeStamp: 't', invocationSequenceNumber: 7 }, 'unavailable'],
    [201, null, 'unavailable'],
    [403, { status: 403, cause: 'END_USER_REQUEST_DENIED' }, 'denied'],
    [404, { invocationResult: { error: { cause: 'USER_UNKNOWN' } } }, 'denied'],
    [400, null, 'denied'],
    [408, null, 'unavailable'],
    [429, null, 'unavailable'],
    [307, null, 'unavailable'],
    [500, unit('SUCCESS'), 'unavailable'],
    [503, null, 'unavailable'],
  ])('HTTP %i with %j is %s', (status, body, expected) => {
    expect(interpretAnswer(status, body, request, invocation).status).toBe(expected);
  });

  it('keeps the refusal cause as the reason', () => {
    expect(interpretAnswer(403, { status: 403, cause: 'QUOTA_LIMIT_REACHED' }, request, invocation)).toMatchObject({ reason: 'QUOTA_LIMIT_REACHED' });
    expect(interpretAnswer(400, null, request, invocation)).toMatchObject({ reason: 'HTTP_400' });
  });
});

describe('chargingDataRequest', () => {
  it('carries no calling/called party outside a call, no GPSI for a SIP URI, and marks retransmissions', () => {
    const body = chargingDataRequest(request, { ...invocation, retransmission: true }, 'cmr-as');
    expect(body.retransmissionIndicator).toBe(true);
    expect(body.multipleUnitUsage).toEqual([{ ratingGroup: 7130, requestedUnit: { serviceSpecificUnits: 250 } }]);
    expect(body.iMSChargingInformation).not.toHaveProperty('callingPartyAddresses');
    expect(body.iMSChargingInformation).not.toHaveProperty('userInformation');
    expect(chargingDataRequest(request, invocation, 'cmr-as').nfConsumerIdentification).toEqual(body.nfConsumerIdentification);
  });
});
