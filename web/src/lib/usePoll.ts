import { useCallback, useEffect, useRef, useState } from 'react';
import type { Loaded } from './useApi';

/**
 * Loads `fn` now and again `intervalMs` after each answer, while the page is visible: a hidden tab asks nothing
 * (the next load starts when it shows again), and nothing is asked after unmount. A failed load keeps the last data
 * and reports the error until a load succeeds. `deps` changing starts over.
 */
export function usePoll<T>(fn: (signal: AbortSignal) => Promise<T>, intervalMs: number, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  const fnRef = useRef(fn);
  fnRef.current = fn;
  useEffect(() => {
    let stopped = false;
    let inFlight: AbortController | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const visible = () => document.visibilityState === 'visible';
    const next = () => {
      if (!stopped && visible() && timer === undefined) timer = setTimeout(load, intervalMs);
    };
    const load = () => {
      timer = undefined;
      const ctl = new AbortController();
      inFlight = ctl;
      setState((s) => ({ ...s, loading: true }));
      fnRef.current(ctl.signal).then(
        (data) => {
          if (ctl.signal.aborted) return;
          inFlight = undefined;
          setState({ data, loading: false });
          next();
        },
        (error: Error) => {
          if (ctl.signal.aborted || error.name === 'AbortError') return;
          inFlight = undefined;
          setState((s) => ({ data: s.data, error, loading: false }));
          next();
        },
      );
    };
    const onVisibility = () => {
      if (!visible()) {
        clearTimeout(timer);
        timer = undefined;
      } else if (inFlight === undefined && timer === undefined) load();
    };
    document.addEventListener('visibilitychange', onVisibility);
    if (visible()) load();
    return () => {
      stopped = true;
      clearTimeout(timer);
      inFlight?.abort();
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [...deps, intervalMs, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}
