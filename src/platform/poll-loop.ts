/**
 * A background loop for work that is found by polling a table (event consumers, the webhook dispatcher). It runs a
 * round again at once when the round did something or it was woken meanwhile, otherwise it sleeps `idleMs()` or
 * until `wake()`. A failed round is reported and followed by a longer wait each time (doubling, up to
 * `maxBackoffMs`), so a persistent failure neither spins nor floods the log. Idle sleeps do not keep the process
 * alive. `stop()` lets the round in progress finish.
 */
export class PollLoop {
  private stopped = false;
  private woken = false;
  private failures = 0;
  private running: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;

  constructor(
    /** One round of work: true when it did something. */
    private readonly round: () => Promise<boolean>,
    /** How long to sleep after an idle round. */
    private readonly idleMs: () => number | Promise<number>,
    private readonly onError: (e: unknown) => void,
    private readonly maxBackoffMs = 30_000,
  ) {}

  start(): void {
    if (this.running || this.stopped) return;
    this.running = this.loop();
  }

  /** Runs a round now instead of at the end of the current sleep (but not during a pause after failures). */
  wake(): void {
    this.woken = true;
    if (this.failures === 0) this.wakeUp?.();
  }

  /** Stops after the round in progress. Safe to call twice. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      this.woken = false;
      let worked = false;
      try {
        worked = await this.round();
        this.failures = 0;
      } catch (e) {
        this.failures++;
        this.onError(e);
      }
      if (this.stopped) break;
      if (this.failures === 0 && (worked || this.woken)) continue;
      let wait: number;
      try {
        wait = await this.idleMs();
      } catch (e) {
        this.onError(e);
        wait = 1000;
      }
      if (this.failures > 0) wait = Math.min(this.maxBackoffMs, Math.max(wait, 50) * 2 ** Math.min(this.failures, 10));
      else if (this.woken) continue;
      await this.sleep(wait);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.wakeUp = done;
    });
  }
}
