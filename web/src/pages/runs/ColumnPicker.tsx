import { useState } from 'react';
import type { KeyLists } from '../../logic/filter-suggest';
import { columnIdString, type ColumnEntity, type ColumnId } from '../../logic/runs-view';

const LABEL: Record<ColumnEntity, string> = { metrics: 'Metrics', params: 'Params', tags: 'Tags' };

/** Checkboxes over the experiment's metric, param and tag keys (with a search over them). */
export function ColumnPicker({ keys, columns, onChange }: { keys: KeyLists; columns: readonly ColumnId[]; onChange: (c: ColumnId[]) => void }) {
  const [q, setQ] = useState('');
  const chosen = new Set(columns.map(columnIdString));
  const toggle = (c: ColumnId) => {
    const id = columnIdString(c);
    onChange(chosen.has(id) ? columns.filter((x) => columnIdString(x) !== id) : [...columns, c]);
  };
  return (
    <details className="column-picker">
      <summary role="button" aria-label="Choose columns">
        Columns ({columns.length})
      </summary>
      <div className="picker-panel" role="group" aria-label="Columns">
        <input type="search" placeholder="Find a key" aria-label="Find a column key" value={q} onChange={(e) => setQ(e.target.value)} />
        {(['metrics', 'params', 'tags'] as const).map((entity) => {
          const list = keys[entity].filter((k) => k.toLowerCase().includes(q.toLowerCase()));
          return (
            <fieldset key={entity}>
              <legend>
                {LABEL[entity]} <span className="muted">({keys[entity].length})</span>
              </legend>
              {list.length === 0 && <div className="muted">none</div>}
              {list.slice(0, 300).map((key) => (
                <label key={key} className="picker-item">
                  <input type="checkbox" checked={chosen.has(`${entity}.${key}`)} onChange={() => toggle({ entity, key })} /> <span className="mono">{key}</span>
                </label>
              ))}
            </fieldset>
          );
        })}
        <button onClick={() => onChange([])}>Clear</button>
      </div>
    </details>
  );
}
