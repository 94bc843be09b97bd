import type { Logger } from '../logging.js';
import { PollLoop } from '../poll-loop.js';
import type { AuditLog } from './log.js';

/**
 * Publishes the audit log's head (seq and hash of the last entry) in the server's log every `intervalMs`, and once at
 * start. Kept anywhere outside the database (log storage, the metrics history of `/metrics`), an earlier head shows a
 * truncated or rewritten tail: `kiln audit verify --expect-head SEQ:HASH` checks the chain still passes through it.
 */
export class AuditHeadPublisher {
  private readonly loop: PollLoop;

  constructor(
    audit: AuditLog,
    logger: Logger,
    private readonly intervalMs: number,
    onError: (e: unknown, what: string) => void,
  ) {
    this.loop = new PollLoop(
      async () => {
        const head = await audit.head();
        logger.info({ audit_head: `${head.seq}:${head.hash}`, seq: head.seq, hash: head.hash }, 'audit head');
        return false;
      },
      () => this.intervalMs,
      (e) => onError(e, 'publishing the audit head'),
    );
  }

  /** Starts publishing (nothing when the interval is 0). */
  start(): void {
    if (this.intervalMs > 0) this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }
}
