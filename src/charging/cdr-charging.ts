/**
 * `cdr` mode: offline charging. Every event is granted at once; `ChargedActions` writes it as a
 * charging data record with the effect, readable at `/v1/charges`. Also used in `nchf` mode for
 * zero-priced events, which are recorded offline rather than asked of the CHF.
 */
import type { ChargeOutcome, ChargeRequest, ChargingPort, Invocation } from './charging-port.js';

export class CdrCharging implements ChargingPort {
  readonly mode = 'cdr' as const;

  async charge(request: ChargeRequest, invocation: Invocation): Promise<ChargeOutcome> {
    return { status: 'granted', chargeId: invocation.chargeId, amount: request.amount, currency: request.currency };
  }
}
