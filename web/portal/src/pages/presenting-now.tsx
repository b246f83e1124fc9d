/** The SP's figure in the bar: how many calls are presenting now, read every few seconds (or why it cannot be read, in words). */
import { useEffect, useState } from 'preact/hooks';
import { must } from '../../../api/client';
import { usePortal } from '../context';

const EVERY_MS = 5000;

export function PresentingNow() {
  const { api } = usePortal();
  const [count, setCount] = useState<number | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  useEffect(() => {
    let stopped = false;
    const read = async () => {
      try {
        const summary = await must(api.GET('/v1/calls'));
        if (stopped) return;
        setCount(summary.presenting);
        setFailure(null);
      } catch (err) {
        if (stopped) return;
        setCount(null);
        setFailure((err as Error).message);
      }
    };
    void read();
    const timer = setInterval(() => void read(), EVERY_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [api]);
  return (
    <span class="presenting" data-testid="presenting-now">
      Calls presenting now: <strong>{count ?? (failure ? 'unknown' : '…')}</strong>
      {failure && ` (${failure})`}
    </span>
  );
}
