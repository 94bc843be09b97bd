import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { applyCandidate, suggest, type KeyLists } from '../../logic/filter-suggest';

export interface FilterError {
  message: string;
  /** 0-based character offset of the mistake (the server's details.position). */
  position: number;
}

/** The filter input: suggestions for entity prefixes, keys and operators as you type; Enter applies; a syntax error is marked under its position. */
export function FilterBox({ value, keys, error, onApply }: { value: string; keys: KeyLists; error?: FilterError; onApply: (filter: string) => void }) {
  const [draft, setDraft] = useState(value);
  const [caret, setCaret] = useState(value.length);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const input = useRef<HTMLInputElement>(null);
  // Where the caret goes once a chosen completion is in the input (set before the next keystroke can land).
  const pendingCaret = useRef<number | null>(null);
  useLayoutEffect(() => {
    if (pendingCaret.current === null) return;
    input.current?.setSelectionRange(pendingCaret.current, pendingCaret.current);
    pendingCaret.current = null;
  }, [draft]);
  useEffect(() => setDraft(value), [value]);
  const s = useMemo(() => suggest(draft, caret, keys), [draft, caret, keys]);
  const shown = open ? s.candidates.slice(0, 12) : [];

  const choose = (i: number) => {
    const c = shown[i];
    if (!c) return;
    const next = applyCandidate(draft, s, c);
    setDraft(next.text);
    setCaret(next.caret);
    setActive(-1);
    pendingCaret.current = next.caret;
  };
  const track = (el: HTMLInputElement) => setCaret(el.selectionStart ?? el.value.length);

  return (
    <div className="filter-box">
      <div className="filter-input">
        <input
          ref={input}
          type="text"
          spellCheck={false}
          autoComplete="off"
          aria-label="Filter runs"
          aria-invalid={error ? true : undefined}
          aria-autocomplete="list"
          aria-expanded={shown.length > 0}
          aria-controls="filter-suggestions"
          placeholder="Filter: metrics.loss < 0.5 AND params.lr = '0.01'"
          className={error ? 'mono invalid' : 'mono'}
          value={draft}
          onChange={(e) => {
            setDraft(e.target.value);
            track(e.target);
            setOpen(true);
            setActive(-1);
          }}
          onSelect={(e) => track(e.currentTarget)}
          onFocus={() => setOpen(true)}
          onBlur={() => setTimeout(() => setOpen(false), 150)}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown' && shown.length) {
              e.preventDefault();
              setActive((a) => (a + 1) % shown.length);
            } else if (e.key === 'ArrowUp' && shown.length) {
              e.preventDefault();
              setActive((a) => (a <= 0 ? shown.length - 1 : a - 1));
            } else if ((e.key === 'Tab' && shown.length && !e.shiftKey) || (e.key === 'Enter' && active >= 0)) {
              e.preventDefault();
              choose(active >= 0 ? active : 0);
            } else if (e.key === 'Enter') {
              e.preventDefault();
              setOpen(false);
              onApply(draft.trim());
            } else if (e.key === 'Escape') {
              setOpen(false);
            }
          }}
        />
        {shown.length > 0 && (
          <ul className="suggestions" id="filter-suggestions" role="listbox" aria-label="Suggestions">
            {shown.map((c, i) => (
              <li
                key={c.label}
                role="option"
                aria-selected={i === active}
                className={i === active ? 'active' : undefined}
                onMouseDown={(e) => {
                  e.preventDefault();
                  choose(i);
                }}
              >
                <span className="mono">{c.label}</span>
                <span className="muted kind">{c.kind}</span>
              </li>
            ))}
          </ul>
        )}
      </div>
      {error && (
        <div className="filter-error" role="alert">
          <pre className="mono" aria-hidden="true">
            {value}
            {'\n'}
            {' '.repeat(Math.max(0, Math.min(error.position, value.length)))}^
          </pre>
          <div className="error-text">{error.message}</div>
        </div>
      )}
    </div>
  );
}
