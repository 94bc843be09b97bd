import type { ReactNode } from 'react';
import { useSearchParams } from 'react-router-dom';

/** The page's tab, kept in `?tab=` (the first tab, and no parameter, when absent or unknown). */
export function useUrlTab<T extends string>(tabs: readonly (readonly [T, ReactNode])[]): [T, (t: T) => void] {
  const [params, setParams] = useSearchParams();
  const first = tabs[0]![0];
  const asked = params.get('tab');
  const tab = tabs.some(([t]) => t === asked) ? (asked as T) : first;
  const setTab = (t: T) =>
    setParams((p) => {
      if (t === first) p.delete('tab');
      else p.set('tab', t);
      return p;
    });
  return [tab, setTab];
}

/** A tab bar (ARIA tabs) for `useUrlTab`. */
export function Tabs<T extends string>({ tabs, current, onSelect, label }: { tabs: readonly (readonly [T, ReactNode])[]; current: T; onSelect: (t: T) => void; label: string }) {
  return (
    <div className="tabs" role="tablist" aria-label={label}>
      {tabs.map(([t, title]) => (
        <button key={t} role="tab" aria-selected={current === t} className={current === t ? 'active' : undefined} onClick={() => onSelect(t)}>
          {title}
        </button>
      ))}
    </div>
  );
}

/** A search box whose text is kept in `?q=` (history replaced, not pushed, as the user types). Returns the query. */
export function useUrlQuery(): [string, (q: string) => void] {
  const [params, setParams] = useSearchParams();
  const set = (v: string) =>
    setParams(
      (p) => {
        if (v) p.set('q', v);
        else p.delete('q');
        return p;
      },
      { replace: true },
    );
  return [params.get('q') ?? '', set];
}

export function SearchBox({ value, onChange, label }: { value: string; onChange: (v: string) => void; label: string }) {
  return <input type="search" placeholder="Search by name" aria-label={label} defaultValue={value} onChange={(ev) => onChange(ev.target.value)} />;
}
