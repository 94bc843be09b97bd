/**
 * Long work on the main thread (writing a 25,000-point answer) done in chunks, the event loop given a turn whenever
 * a slice of time has passed: other requests (/health) wait one slice at most, not for the whole answer.
 */

/** How long a slice of main-thread work runs before other work gets a turn. */
export const SLICE_MS = 5;

/** Resolves after the I/O callbacks already waiting (incoming requests) have run. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** Measures a slice of main-thread work; `pause()` gives the event loop a turn once the slice has lasted `sliceMs`. */
export class TimeSlice {
  private start = performance.now();
  constructor(private readonly sliceMs = SLICE_MS) {}

  async pause(): Promise<void> {
    if (performance.now() - this.start < this.sliceMs) return;
    await yieldToEventLoop();
    this.start = performance.now();
  }
}
