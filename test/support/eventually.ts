/** Retries `check` until it passes or `timeoutMs` runs out (then its last failure is thrown). */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 5000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}

/**
 * Resolves once `count` has stopped growing for `quietMs` (or after `timeoutMs`): for traffic that
 * has no end-of-stream event, such as answers to thousands of datagrams still on their way.
 */
export async function settled(count: () => number, quietMs = 150, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = count();
  let quietSince = Date.now();
  while (Date.now() - quietSince < quietMs && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    const now = count();
    if (now !== last) {
      last = now;
      quietSince = Date.now();
    }
  }
}
