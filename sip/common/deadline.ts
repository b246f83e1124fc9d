/** Waiting on a promise for a bounded time. */

/**
 * Settles as `promise` does, or rejects with `expired()` once `ms` have passed first. The timer
 * never keeps the process alive on its own.
 */
export function withDeadline<T>(promise: Promise<T>, ms: number, expired: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(expired()), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        // The promise's own rejection, passed on as it is.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        reject(err);
      },
    );
  });
}
