import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, realpath, rename, rm, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KilnError } from '../../errors.js';
import type { ArtifactEntry, ArtifactObject, ArtifactStore } from '../types.js';

/** Artifacts in a folder of the local file system. Writes are atomic (temp file, then rename). */
export class LocalArtifactStore implements ArtifactStore {
  readonly rootUri: string;
  private realRoot = '';

  constructor(private readonly root: string) {
    this.rootUri = pathToFileURL(root).href;
  }

  async ready(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    this.realRoot = await realpath(this.root);
  }

  private full(path: string): string {
    return path === '' ? this.root : join(this.root, ...path.split('/'));
  }

  /** Refuses paths whose existing parent resolves (through symlinks) outside the root. */
  private async confine(path: string): Promise<string> {
    const full = this.full(path);
    let probe = full;
    for (;;) {
      try {
        const real = await realpath(probe);
        if (real !== this.realRoot && !real.startsWith(this.realRoot + sep)) {
          throw new KilnError('INVALID_PARAMETER_VALUE', `Artifact path '${path}' leaves the artifact store`);
        }
        return full;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        const parent = dirname(probe);
        if (parent === probe) return full;
        probe = parent;
      }
    }
  }

  async put(path: string, body: Readable | Buffer): Promise<void> {
    const full = await this.confine(path);
    try {
      await mkdir(dirname(full), { recursive: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') {
        throw new KilnError('INVALID_PARAMETER_VALUE', `Cannot write '${path}': a parent of it is a file`);
      }
      throw e;
    }
    const existing = await lstat(full).catch(() => undefined);
    if (existing?.isDirectory()) throw new KilnError('INVALID_PARAMETER_VALUE', `Cannot write '${path}': it is a folder`);
    const tmp = `${full}.kiln-upload-${randomBytes(6).toString('hex')}`;
    try {
      await pipeline(Buffer.isBuffer(body) ? Readable.from([body]) : body, createWriteStream(tmp, { flags: 'wx' }));
      await rename(tmp, full);
    } catch (e) {
      await unlink(tmp).catch(() => {});
      throw e;
    }
  }

  async get(path: string): Promise<ArtifactObject> {
    const full = await this.confine(path);
    const st = await stat(full).catch(() => undefined);
    if (!st || !st.isFile()) throw new KilnError('RESOURCE_DOES_NOT_EXIST', `No artifact file at '${path}'`);
    return { body: createReadStream(full), size: st.size };
  }

  async list(prefix: string): Promise<ArtifactEntry[]> {
    const full = await this.confine(prefix);
    let names;
    try {
      names = await readdir(full, { withFileTypes: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw e;
    }
    const out: ArtifactEntry[] = [];
    for (const d of names) {
      if (d.name.includes('.kiln-upload-')) continue;
      const path = prefix === '' ? d.name : `${prefix}/${d.name}`;
      if (d.isDirectory()) out.push({ path, isDir: true });
      else if (d.isFile()) out.push({ path, isDir: false, size: (await stat(join(full, d.name))).size });
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async delete(path: string): Promise<void> {
    const full = await this.confine(path);
    await rm(full, { recursive: true, force: true });
  }

  async exists(path: string): Promise<boolean> {
    const full = await this.confine(path);
    const st = await stat(full).catch(() => undefined);
    return !!st?.isFile();
  }

  async close(): Promise<void> {
    // Nothing to release.
  }
}
