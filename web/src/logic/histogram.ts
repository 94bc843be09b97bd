/** Small histograms drawn as SVG bars, without the DOM. */

/** Bars of a histogram scaled into a w×h box (x from the bin's rank, height from its count); empty for no data. */
export function histogramBars(counts: readonly number[], w: number, h: number, gap = 1): { x: number; y: number; width: number; height: number; count: number }[] {
  const max = Math.max(0, ...counts);
  if (counts.length === 0 || max === 0) return [];
  const bw = w / counts.length;
  return counts.map((c, i) => {
    const bh = (c / max) * h;
    return { x: i * bw, y: h - bh, width: Math.max(0.5, bw - gap), height: bh, count: c };
  });
}
