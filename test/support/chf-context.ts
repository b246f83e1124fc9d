/**
 * A test server charging online (`nchf`) against its own HTTP/2 test CHF, with the recoverer and
 * deliveries left to the test (`services.recoverer.runOnce()`), as most charging and copy tests want.
 */
import { createTestContext, type TestContext } from './context.js';
import { TestChf } from './test-chf.js';

export interface ChfTestContext {
  chf: TestChf;
  ctx: TestContext;
  close(): Promise<void>;
}

export async function createChfTestContext(env: Record<string, string> = {}): Promise<ChfTestContext> {
  const chf = await TestChf.start();
  const ctx = await createTestContext({
    // A timeout long enough that only the slow answers a test asks for time out on a busy machine.
    env: { CMR_CHARGING_MODE: 'nchf', CMR_CHF_URL: chf.url, CMR_CHF_TIMEOUT_MS: '2000', ...env },
    services: { charging: { background: false } },
  });
  return {
    chf,
    ctx,
    close: async () => {
      await ctx.close();
      await chf.stop();
    },
  };
}
