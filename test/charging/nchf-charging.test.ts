/** The nchf adapter against the real HTTP/2 test CHF: every outcome mapping and the retransmission rule. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChargeRequest, Invocation } from '../../src/charging/charging-port.js';
import { NchfCharging } from '../../src/charging/nchf-charging.js';
import type { Identity } from '../../src/domain/identity.js';
import { createLogger } from '../../src/observability/logger.js';
import { eventually } from '../support/eventually.js';
import { TestChf } from '../support/test-chf.js';

const logger = createLogger({ level: 'silent', pretty: false });
const alice = 'tel:+15551230001' as Identity;
const bob = 'tel:+15551230002' as Identity;

let chf: TestChf;
let port: NchfCharging;
let seq = 0;

function invocation(): Invocation {
  seq += 1;
  return { chargeId: `ch-test-${seq}`, sequenceNumber: seq, timestamp: new Date().toISOString(), retransmission: false };
}

function copy(amount = 99): ChargeRequest {
  return { subscriber: alice, kind: 'copy-online', amount, currency: 'EUR', resourceIds: ['r-1'], channel: 'sip', calling: alice, called: bob, callId: 'call-1@h' };
}

beforeAll(async () => {
  chf = await TestChf.start();
  port = new NchfCharging({ chfUrl: chf.url, timeoutMs: 2000, asIdentity: 'cmr-as.example.net' }, logger);
});
afterAll(async () => {
  await port.close();
  await chf.stop();
});
afterEach(() => chf.clearSwitches());

describe('nchf charging', () => {
  it('sends an IEC ChargingDataRequest and maps 201 SUCCESS to granted', async () => {
    chf.setBalance(alice, 1000);
    const inv = invocation();
    const outcome = await port.charge(copy(), inv);
    expect(outcome).toMatchObject({ status: 'granted', chargeId: inv.chargeId, amount: 99, currency: 'EUR' });
    expect(outcome.status === 'granted' && outcome.reference).toMatch(/^\/nchf-convergedcharging\/v3\/chargingdata\/\d+$/);
    expect(chf.balances.get(alice)).toBe(901);
    const sent = chf.requests.at(-1)!;
    expect(sent).toMatchObject({
      subscriberIdentifier: alice,
      oneTimeEvent: true,
      oneTimeEventType: 'IEC',
      invocationSequenceNumber: inv.sequenceNumber,
      invocationTimeStamp: inv.timestamp,
      nfConsumerIdentification: { nodeFunctionality: 'IMS_Node' },
      multipleUnitUsage: [{ ratingGroup: 7120, requestedUnit: { serviceSpecificUnits: 99 } }],
      iMSChargingInformation: {
        iMSNodeFunctionality: 'AS',
        applicationServerInformation: ['cmr-as.example.net'],
        callingPartyAddresses: [alice],
        calledPartyAddress: bob,
        imsChargingIdentifier: inv.chargeId,
        userSessionID: 'call-1@h',
        userInformation: { servedGPSI: 'msisdn-15551230001' },
      },
    });
    expect(sent.nfConsumerIdentification.nFName).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(sent.retransmissionIndicator).toBeUndefined();
  });

  it.each([
    ['quota', () => chf.setBalance(alice, 10), 'QUOTA_LIMIT_REACHED'],
    ['unknown user', () => chf.balances.delete(alice), 'USER_UNKNOWN'],
    ['service denied (403)', () => (chf.setBalance(alice, 1000), chf.denyNext('END_USER_SERVICE_DENIED')), 'END_USER_SERVICE_DENIED'],
    ['rating failed in a 201', () => (chf.setBalance(alice, 1000), chf.denyNext('RATING_FAILED', { status: 201 })), 'RATING_FAILED'],
  ])('maps a refusal (%s) to denied', async (_label, arrange, reason) => {
    arrange();
    const before = chf.charged.size;
    expect(await port.charge(copy(), invocation())).toMatchObject({ status: 'denied', reason });
    expect(chf.charged.size).toBe(before);
  });

  it('maps a 5xx to unavailable', async () => {
    chf.setBalance(alice, 1000);
    chf.failNext(503);
    expect(await port.charge(copy(), invocation())).toMatchObject({ status: 'unavailable', retryAfterSec: 5 });
  });

  it('maps no answer within the timeout to unavailable', async () => {
    chf.setBalance(alice, 1000);
    chf.slowNext(4000, 1);
    const outcome = await port.charge(copy(), invocation());
    expect(outcome).toMatchObject({ status: 'unavailable' });
    expect(outcome.status === 'unavailable' && outcome.reason).toMatch(/timeout/);
  });

  it('retransmits the same invocation after a dropped connection, and the CHF charges once', async () => {
    chf.setBalance(alice, 1000);
    chf.dropNext('after');
    const inv = invocation();
    const outcome = await port.charge(copy(), inv);
    expect(outcome).toMatchObject({ status: 'granted', chargeId: inv.chargeId });
    const sent = chf.requests.filter((r) => r.invocationSequenceNumber === inv.sequenceNumber);
    expect(sent).toHaveLength(2);
    expect(sent[0]!.retransmissionIndicator).toBeUndefined();
    expect(sent[1]).toMatchObject({ retransmissionIndicator: true, invocationTimeStamp: inv.timestamp, iMSChargingInformation: { imsChargingIdentifier: inv.chargeId } });
    expect([...chf.charged.keys()].filter((k) => k.endsWith(`|${inv.sequenceNumber}`))).toHaveLength(1);
    expect(chf.balances.get(alice)).toBe(901);
  });

  it('reports an unreachable CHF as unavailable', async () => {
    const dead = await TestChf.start();
    const url = dead.url;
    await dead.stop();
    const orphan = new NchfCharging({ chfUrl: url, timeoutMs: 400, asIdentity: 'cmr-as' }, logger);
    expect(await orphan.charge(copy(), invocation())).toMatchObject({ status: 'unavailable' });
    await orphan.close();
  });
});

describe('a CHF closing its connections gracefully', () => {
  it('answers the requests already in flight on the closing connection, without retransmissions', async () => {
    const port = new NchfCharging({ chfUrl: chf.url, timeoutMs: 2000, asIdentity: 'cmr-as' }, logger);
    try {
      chf.setBalance(alice, 1000);
      expect(await port.charge(copy(), invocation())).toMatchObject({ status: 'granted' });
      chf.slowNext(300, 3);
      const inFlight = [invocation(), invocation(), invocation()];
      const outcomes = Promise.all(inFlight.map((inv) => port.charge(copy(), inv)));
      await eventually(() => expect(chf.requests.filter((r) => inFlight.some((i) => i.sequenceNumber === r.invocationSequenceNumber))).toHaveLength(3));
      chf.closeConnectionsGracefully();
      expect((await outcomes).map((o) => o.status)).toEqual(['granted', 'granted', 'granted']);
      const sent = chf.requests.filter((r) => inFlight.some((i) => i.sequenceNumber === r.invocationSequenceNumber));
      expect(sent.map((r) => r.retransmissionIndicator ?? false)).toEqual([false, false, false]);
      // The next charge opens a new connection.
      expect(await port.charge(copy(), invocation())).toMatchObject({ status: 'granted' });
    } finally {
      await port.close();
    }
  });
});
