import { useCallback, useState } from 'react';

export const MIN_WIDTH = 48;
export const MAX_WIDTH = 800;
export const clampWidth = (w: number) => Math.round(Math.max(MIN_WIDTH, Math.min(MAX_WIDTH, w)));

const storageKey = (experimentId: string) => `kiln.runs.widths.${experimentId}`;

function load(experimentId: string): Record<string, number> {
  try {
    const v = JSON.parse(window.localStorage.getItem(storageKey(experimentId)) ?? '{}') as unknown;
    if (!v || typeof v !== 'object') return {};
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])).map(([k, w]) => [k, clampWidth(w)]));
  } catch {
    return {};
  }
}

/**
 * Column widths the user set by dragging a header's edge, per experiment, kept in the browser (localStorage):
 * `widthOf(column, fallback)` and `setWidth(column, width | undefined)` (undefined: back to the default).
 */
export function useColumnWidths(experimentId: string): [(column: string, fallback: number) => number, (column: string, width: number | undefined) => void] {
  const [state, setState] = useState(() => ({ experimentId, widths: load(experimentId) }));
  const widths = state.experimentId === experimentId ? state.widths : load(experimentId);
  const widthOf = useCallback((column: string, fallback: number) => widths[column] ?? fallback, [widths]);
  const setWidth = useCallback(
    (column: string, width: number | undefined) => {
      setState((s) => {
        const base = s.experimentId === experimentId ? s.widths : load(experimentId);
        const next = { ...base };
        if (width === undefined) delete next[column];
        else next[column] = clampWidth(width);
        try {
          window.localStorage.setItem(storageKey(experimentId), JSON.stringify(next));
        } catch {
          // storage full or disabled: the width holds until the page is left
        }
        return { experimentId, widths: next };
      });
    },
    [experimentId],
  );
  return [widthOf, setWidth];
}
