import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

/** An S3-compatible server (s3rver) on a random loopback port, with one bucket. */
export async function startS3Server(): Promise<{ endpoint: string; bucket: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-s3-'));
  const bucket = 'kiln-test';
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    async stop() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
