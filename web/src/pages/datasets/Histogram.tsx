import { formatValue } from '../../lib/format';
import { histogramBars } from '../../logic/histogram';

/** A small SVG histogram from a profile's edges and counts (hover a bar for its range and count). */
export function Histogram({ edges, counts, column, width = 340, height = 70 }: { edges: readonly (number | null)[]; counts: readonly number[]; column: string; width?: number; height?: number }) {
  const bars = histogramBars(counts, width, height);
  if (bars.length === 0) return <span className="muted">No values to plot.</span>;
  const lo = edges[0];
  const hi = edges[edges.length - 1];
  return (
    <figure style={{ margin: '6px 0 0' }}>
      <svg className="hist" width={width} height={height} role="img" aria-label={`Histogram of ${column}`} viewBox={`0 0 ${width} ${height}`}>
        {bars.map((b, i) => (
          <rect key={i} x={b.x} y={b.y} width={b.width} height={Math.max(b.height, b.count > 0 ? 1 : 0)}>
            <title>{`${formatValue(edges[i])} – ${formatValue(edges[i + 1])}: ${b.count}`}</title>
          </rect>
        ))}
      </svg>
      <figcaption className="row muted" style={{ fontSize: 11, width }}>
        <span>{formatValue(lo)}</span>
        <span className="grow" />
        <span>{formatValue(hi)}</span>
      </figcaption>
    </figure>
  );
}
