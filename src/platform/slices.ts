/**
 * Long work on the main thread (writing a 25,000-point answer) done in chunks, the event loop given a turn whenever
 * a slice of time has passed: other requests (/health) wait one slice at most, not for the whole answer.
 */

/** How long a slice of main-thread work runs before other work gets a turn. */
export const SLICE_MS = 5;

/**
 * Work waiting for its next slice, first come first served. One slice runs per turn of the event loop however many
 * long answers are being written at once: a request that arrives meanwhile waits for one slice, not for one slice
 * of each of them.
 */
const waiting: (() => void)[] = [];
let turnScheduled = false;

function nextTurn(): void {
  const resume = waiting.shift();
  turnScheduled = waiting.length > 0;
  if (turnScheduled) setImmediate(nextTurn);
  resume?.();
}

/** Resolves after the I/O callbacks already waiting (incoming requests) have run, and the work queued before this has had its slice. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    if (!turnScheduled) {
      turnScheduled = true;
      setImmediate(nextTurn);
    }
  });
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
