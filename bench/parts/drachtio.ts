/**
 * Part 8, drachtio: sipp caller → the tests' scripted drachtio peer (`test/support/drachtio-peer`,
 * playing drachtio's server side and the SIP network over real UDP) → the app over drachtio's wire
 * protocol → the B leg back through the peer → sipp called UA, full INVITE/180/200/ACK/BYE
 * calls, stepped like the calls part. Two apps, each on a peer of its own: the drachtio front
 * with CMR (no rtpengine) and the null anchor, the least B2BUA on unmodified drachtio-srf
 * (`bench/anchors/null-b2bua.ts`). Both apps run in this process and each step's CPU per call
 * is this process's, as in the calls part; each peer runs in a child process of its own, so its
 * CPU (reported beside it) is not the app's. The two take turns going first, step by step.
 */
import { startSignalling } from '../../src/signalling.js';
import { createTestContext, type TestContext } from '../../test/support/context.js';
import { eventually } from '../../test/support/eventually.js';
import { NullB2bua } from '../anchors/null-b2bua.js';
import { PeerProcess } from '../anchors/peer-process.js';
import { BENCH_CALLED, seedCalledParty, seedCatalogFor } from '../bench-data.js';
import type { BenchOptions } from '../options.js';
import { benchEnv, type Progress } from '../run.js';
import { alternating, cmrStep, frontStep, LIBRARY_SIZE, msPerCall, stepSummary, sustainedRatio, type CmrStep, type FrontStep } from './calls.js';
import { sustainedRate, untilQuiet, type Sustained } from './load-figures.js';

const SECRET = 'bench-secret';

/** A step's figures, and the CPU time of the app's scripted drachtio peer per call. */
export type PeerStep<S extends FrontStep> = S & { peerCpuMsPerCall: number };

export interface DrachtioStepFigures {
  targetCps: number;
  cmr: PeerStep<CmrStep>;
  nullB2bua: PeerStep<FrontStep>;
}

export interface DrachtioFigures {
  libraryEntries: number;
  steps: DrachtioStepFigures[];
  cmr: Sustained;
  nullB2bua: Sustained;
  /** CMR's highest sustained rate over the null B2BUA's (null when the null B2BUA sustained none). */
  ratio: number | null;
}

export async function benchDrachtio(options: BenchOptions, progress: Progress): Promise<DrachtioFigures> {
  const [cmrPeer, nullPeer] = await Promise.all([PeerProcess.start(SECRET), PeerProcess.start(SECRET)]);
  let ctx: TestContext | undefined;
  let stopFront: (() => Promise<void>) | undefined;
  let nullB2bua: NullB2bua | undefined;
  try {
    ctx = await createTestContext({
      env: benchEnv(options, { CMR_DRACHTIO_HOST: '127.0.0.1', CMR_DRACHTIO_PORT: String(cmrPeer.port), CMR_DRACHTIO_SECRET: SECRET, CMR_DRAIN_TIMEOUT_MS: '2000' }),
    });
    const { services } = ctx;
    const front = await startSignalling(services, { calls: services.calls, copy: services.sipCopy });
    stopFront = () => front.stop();
    await eventually(async () => {
      if (!(await services.readiness.report()).checks['sip']) throw new Error('the drachtio front is not ready');
    }, 10_000);
    nullB2bua = await NullB2bua.start({ port: nullPeer.port, secret: SECRET });
    await seedCatalogFor(services, LIBRARY_SIZE);
    await seedCalledParty(services, BENCH_CALLED, LIBRARY_SIZE);
    const steps: DrachtioStepFigures[] = [];
    for (const [index, rate] of options.callSteps.entries()) {
      const results: Partial<Omit<DrachtioStepFigures, 'targetCps'>> = {};
      for (const variant of alternating(['cmr', 'nullB2bua'] as const, index)) {
        if (variant === 'cmr') results.cmr = await withPeerCpu(cmrPeer, () => cmrStep(services, sipTarget(cmrPeer), rate, options.stepSec));
        else results.nullB2bua = await withPeerCpu(nullPeer, () => frontStep(sipTarget(nullPeer), rate, options.stepSec));
        const step = results[variant]!;
        progress(`drachtio ${variant} ${rate}/s: ${stepSummary(step)}, peer CPU ${step.peerCpuMsPerCall} ms/call`);
        await untilQuiet([services.metrics]);
      }
      steps.push({ targetCps: rate, cmr: results.cmr!, nullB2bua: results.nullB2bua! });
    }
    const cmr = sustainedRate(steps.map((s) => s.cmr));
    const nullSustained = sustainedRate(steps.map((s) => s.nullB2bua));
    return { libraryEntries: LIBRARY_SIZE, steps, cmr, nullB2bua: nullSustained, ratio: sustainedRatio(cmr, nullSustained) };
  } finally {
    nullB2bua?.close();
    await stopFront?.();
    await ctx?.close();
    await Promise.all([cmrPeer.close(), nullPeer.close()]);
  }
}

function sipTarget(peer: PeerProcess): { ip: string; port: number } {
  return { ip: peer.sipHost, port: peer.sipPort };
}

/** A step, with the CPU time its peer process spent on it per call. */
async function withPeerCpu<S extends FrontStep>(peer: PeerProcess, step: () => Promise<S>): Promise<PeerStep<S>> {
  const before = await peer.cpuMs();
  const result = await step();
  return { ...result, peerCpuMsPerCall: msPerCall((await peer.cpuMs()) - before, result) };
}
