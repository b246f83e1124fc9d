/** The embedded front end to end: every scenario pair of `sip/scenarios/` through it, over UDP and TCP. */
import { startSipHarness } from '../../support/sip/harness.js';
import { describeScenarioPairs } from '../../support/sip/scenario-pairs.js';

describeScenarioPairs('embedded SIP front', () => startSipHarness());
