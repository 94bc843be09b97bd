/**
 * Model files for serving: read from the artifact store once, checked against the digest the registry recorded,
 * and kept in a local cache folder by digest, so a replica that restarts, or serves the version again, reads the
 * store no more.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KilnError } from '../platform/errors.js';
import type { ArtifactStore } from '../platform/artifacts/types.js';
import type { ModelVersion } from '../registry/types.js';

export class ModelLoader {
  constructor(
    private readonly artifacts: ArtifactStore,
    private readonly cacheDir: string,
  ) {}

  async bytes(v: ModelVersion): Promise<Uint8Array> {
    const onnx = v.package?.onnx;
    if (!onnx) throw new KilnError('INVALID_STATE', `Version ${v.version} of '${v.name}' has no inspected ONNX file.`);
    const digest = onnx.sha256;
    const cached = join(this.cacheDir, `${digest}.onnx`);
    try {
      return await readFile(cached);
    } catch {
      // Not cached yet.
    }
    const obj = await this.artifacts.get(onnx.path);
    const chunks: Buffer[] = [];
    for await (const c of obj.body) chunks.push(c as Buffer);
    const bytes = Buffer.concat(chunks);
    const got = createHash('sha256').update(bytes).digest('hex');
    if (got !== digest) throw new KilnError('INVALID_STATE', `The ONNX file of version ${v.version} of '${v.name}' (${onnx.path}) changed since it was registered: sha256 ${got}, registered ${digest}.`);
    await mkdir(this.cacheDir, { recursive: true });
    const tmp = `${cached}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, cached);
    return bytes;
  }
}
