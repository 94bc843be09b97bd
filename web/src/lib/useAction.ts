import { useCallback, useState } from 'react';

/**
 * A page's changes through the API, one at a time: `busy` names the one under way, `error` says why the last one
 * failed; `run` answers whether it went through (the caller then reloads what it shows).
 */
export function useAction(): { busy: string | null; error: string | null; run: (key: string, fn: () => Promise<unknown>) => Promise<boolean> } {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = useCallback(async (key: string, fn: () => Promise<unknown>) => {
    setBusy(key);
    setError(null);
    try {
      await fn();
      return true;
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
      return false;
    } finally {
      setBusy(null);
    }
  }, []);
  return { busy, error, run };
}
