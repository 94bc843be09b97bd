import { TimeSlice } from '../slices.js';

/**
 * Writes a long JSON answer (a page of 25,000 metric points, 1-2 MB) in pieces, each turned into UTF-8 bytes as
 * soon as it is written, with other requests getting their turn between pieces once a time slice has passed
 * (platform/slices.ts). Neither the text of the whole answer nor its 25,000 small strings are ever alive at once:
 * a page's small strings or objects alive together made each young-generation garbage collection copy them all
 * (pauses of 30-170 ms on a loaded 2-core machine), and encoding one long string held the loop for 10-30 ms.
 */
export class SlicedJsonWriter {
  private readonly parts: Buffer[] = [];
  private length = 0;
  private readonly slice = new TimeSlice();

  /** Appends JSON text as it is. */
  text(s: string): this {
    const b = Buffer.from(s, 'utf8');
    this.parts.push(b);
    this.length += b.length;
    return this;
  }

  /**
   * Appends the texts of items [0, n), comma-separated (no brackets): `chunkText(from, to)` writes the items
   * from..to-1, at most `size` of them at a time.
   */
  async list(n: number, chunkText: (from: number, to: number) => string, size = 1000): Promise<this> {
    for (let from = 0; from < n; from += size) {
      await this.slice.pause();
      const chunk = chunkText(from, Math.min(n, from + size));
      this.text(from === 0 ? chunk : ',' + chunk);
    }
    return this;
  }

  /** The answer's bytes. */
  toBuffer(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}
