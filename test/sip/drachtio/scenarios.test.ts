/**
 * The drachtio front end to end: every scenario pair of `sip/scenarios/` (sipp on both sides)
 * through the scripted drachtio-server and the front, over UDP and TCP.
 */
import { startDrachtioSipHarness } from '../../support/sip/drachtio-harness.js';
import { describeScenarioPairs } from '../../support/sip/scenario-pairs.js';

describeScenarioPairs('drachtio front', () => startDrachtioSipHarness());
