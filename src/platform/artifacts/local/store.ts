import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, realpath, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { KilnError } from '../../errors.js';
import { normalizeArtifactPath } from '../path.js';
import type { ArtifactEntry, ArtifactObject, ArtifactStore } from '../types.js';

/** Uploads in progress are written to hidden files with this name prefix next to their final name. */
const TEMP_PREFIX = '.kiln-upload-';

const errno = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code;
const byPath = (a: ArtifactEntry, b: ArtifactEntry): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/**
 * Artifacts in a folder of the local file system.
 *
 * Writes are atomic: the bytes go to a temporary file in the target folder, are flushed, and the file is renamed to
 * its final name, so a reader sees the old content or the new one, never a part. Every path is resolved through
 * `realpath` and must stay inside the root, so a symbolic link inside the root cannot lead reads or writes outside it.
 */
export class LocalArtifactStore implements ArtifactStore {
  readonly rootUri: string;
  private readonly root: string;
  private realRoot: Promise<string> | undefined;

  constructor(root: string) {
    if (!isAbsolute(root)) throw new KilnError('INVALID_PARAMETER_VALUE', `The local artifact root must be an absolute path, got '${root}'`);
    this.root = resolve(root);
    this.rootUri = pathToFileURL(this.root).href;
  }

  /** Creates the root folder. The other methods call it too, so calling it first is optional. */
  async ready(): Promise<void> {
    await this.rootReal();
  }

  private rootReal(): Promise<string> {
    if (!this.realRoot) {
      const attempt = (async () => {
        await mkdir(this.root, { recursive: true });
        return realpath(this.root);
      })();
      // A failed attempt (e.g. permissions) is not remembered, so a later call can succeed.
      attempt.catch(() => {
        if (this.realRoot === attempt) this.realRoot = undefined;
      });
      this.realRoot = attempt;
    }
    return this.realRoot;
  }

  /**
   * The absolute file-system path of `path`, after checking that it stays inside the root. With `followLeaf` the
   * last name is resolved too (reads); without, only its folder is (writes and deletes act on the name itself, so a
   * symbolic link there is replaced or removed, never followed).
   */
  private async resolvePath(path: string, followLeaf: boolean): Promise<string> {
    const realRoot = await this.rootReal();
    const full = path === '' ? this.root : join(this.root, ...path.split('/'));
    let probe = followLeaf || path === '' ? full : dirname(full);
    // The nearest existing ancestor, up to the root, decides: anything below it does not exist, so is no link.
    for (;;) {
      let real: string;
      try {
        real = await realpath(probe);
      } catch (e) {
        const code = errno(e);
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw e;
        if (probe === this.root) return full; // the root itself is gone: writes make it again, reads find nothing
        probe = dirname(probe);
        continue;
      }
      if (real !== realRoot && !real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep)) {
        throw new KilnError('INVALID_PARAMETER_VALUE', `Artifact path '${path}' leaves the artifact store (through a symbolic link)`);
      }
      return full;
    }
  }

  async put(path: string, body: Readable | Buffer, contentLength?: number): Promise<void> {
    const rel = normalizeArtifactPath(path);
    const full = await this.resolvePath(rel, false);
    const tmp = join(dirname(full), `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    let fh: FileHandle | undefined;
    try {
      fh = await this.createTemp(rel, full, tmp);
      let written = 0;
      for await (const chunk of Buffer.isBuffer(body) ? [body] : body) {
        const data = toBuffer(chunk);
        for (let at = 0; at < data.length; ) at += (await fh.write(data, at, data.length - at)).bytesWritten;
        written += data.length;
      }
      if (contentLength !== undefined && written !== contentLength) {
        throw new KilnError('INVALID_PARAMETER_VALUE', `Upload of '${rel}' ended after ${written} bytes; ${contentLength} were announced`);
      }
      await fh.sync();
      await fh.close();
      fh = undefined;
      await rename(tmp, full);
    } catch (e) {
      await fh?.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      await this.pruneEmptyFolders(full);
      if (!Buffer.isBuffer(body) && !body.destroyed) body.destroy();
      if (errno(e) === 'EISDIR') throw new KilnError('INVALID_PARAMETER_VALUE', `Cannot write '${rel}': it is a folder`);
      throw e;
    }
  }

  /** Creates the folders above `full` and an empty temporary file next to it. */
  private async createTemp(rel: string, full: string, tmp: string): Promise<FileHandle> {
    for (let attempt = 1; ; attempt++) {
      try {
        await mkdir(dirname(full), { recursive: true });
      } catch (e) {
        const code = errno(e);
        if (code === 'EEXIST' || code === 'ENOTDIR') throw new KilnError('INVALID_PARAMETER_VALUE', `Cannot write '${rel}': a folder above it is a file`);
        throw e;
      }
      const existing = await lstat(full).catch(() => undefined);
      if (existing?.isDirectory()) throw new KilnError('INVALID_PARAMETER_VALUE', `Cannot write '${rel}': it is a folder`);
      try {
        return await open(tmp, 'wx');
      } catch (e) {
        // A concurrent delete removed the folder, now empty, in between: make it again.
        if (errno(e) !== 'ENOENT' || attempt >= 3) throw e;
      }
    }
  }

  /**
   * Removes the folders above `full` that are empty, up to the root. Folders exist only to hold files, as on S3: a
   * folder whose last file is deleted disappears from listings.
   */
  private async pruneEmptyFolders(full: string): Promise<void> {
    for (let dir = dirname(full); dir !== this.root && dir.startsWith(this.root + sep); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch (e) {
        if (errno(e) !== 'ENOENT') return; // not empty: neither are the folders above
      }
    }
  }

  async get(path: string): Promise<ArtifactObject> {
    const rel = normalizeArtifactPath(path);
    if (basename(rel).startsWith(TEMP_PREFIX)) throw new KilnError('RESOURCE_DOES_NOT_EXIST', `No artifact file at '${rel}'`);
    const full = await this.resolvePath(rel, true);
    let fh: FileHandle;
    try {
      // Non-blocking, so a FIFO planted in the folder cannot stall the read; regular files ignore the flag.
      fh = await open(full, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (e) {
      const code = errno(e);
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') throw new KilnError('RESOURCE_DOES_NOT_EXIST', `No artifact file at '${rel}'`);
      throw e;
    }
    try {
      // The size comes from the open handle, so it matches the bytes the stream will read.
      const st = await fh.stat();
      if (!st.isFile()) throw new KilnError('RESOURCE_DOES_NOT_EXIST', `No artifact file at '${rel}'`);
      return { body: fh.createReadStream(), size: st.size };
    } catch (e) {
      await fh.close().catch(() => {});
      throw e;
    }
  }

  async list(prefix: string): Promise<ArtifactEntry[]> {
    const rel = normalizeArtifactPath(prefix, { allowEmpty: true });
    const full = await this.resolvePath(rel, true);
    let dirents;
    try {
      dirents = await readdir(full, { withFileTypes: true });
    } catch (e) {
      const code = errno(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw e;
    }
    const entries = await Promise.all(
      dirents.map(async (d): Promise<ArtifactEntry | undefined> => {
        if (d.name.startsWith(TEMP_PREFIX)) return undefined;
        const path = rel === '' ? d.name : `${rel}/${d.name}`;
        if (d.isDirectory()) return { path, isDir: true };
        if (!d.isFile() && !d.isSymbolicLink()) return undefined; // sockets, fifos, devices
        try {
          // A symbolic link is listed as what it points to, and only when that stays inside the root.
          if (d.isSymbolicLink()) await this.resolvePath(path, true);
          const st = await stat(join(full, d.name));
          if (st.isDirectory()) return { path, isDir: true };
          return st.isFile() ? { path, isDir: false, size: st.size } : undefined;
        } catch {
          return undefined; // removed meanwhile, a dangling link or a link out of the root
        }
      }),
    );
    return entries.filter((e): e is ArtifactEntry => e !== undefined).sort(byPath);
  }

  async delete(path: string): Promise<void> {
    const rel = normalizeArtifactPath(path, { allowEmpty: true });
    if (rel === '') throw new KilnError('INVALID_PARAMETER_VALUE', 'Refusing to delete the root of the artifact store');
    const full = await this.resolvePath(rel, false);
    try {
      await rm(full, { recursive: true, force: true });
    } catch (e) {
      if (errno(e) !== 'ENOTDIR') throw e; // a folder above it is a file: nothing to delete
      return;
    }
    await this.pruneEmptyFolders(full);
  }

  async exists(path: string): Promise<boolean> {
    const rel = normalizeArtifactPath(path);
    if (basename(rel).startsWith(TEMP_PREFIX)) return false;
    const full = await this.resolvePath(rel, true);
    const st = await stat(full).catch(() => undefined);
    return st?.isFile() ?? false;
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }
}

function toBuffer(v: unknown): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'string') return Buffer.from(v);
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  throw new KilnError('INVALID_PARAMETER_VALUE', 'An artifact body must be a stream of bytes');
}
