import type { Readable } from 'node:stream';

/** One entry of an artifact listing. `path` is relative to the store root, '/'-separated. */
export interface ArtifactEntry {
  readonly path: string;
  readonly isDir: boolean;
  /** Size in bytes for files; undefined for folders. */
  readonly size?: number;
}

export interface ArtifactObject {
  readonly body: Readable;
  readonly size: number;
}

/**
 * A place where artifact bytes live. Paths are relative, '/'-separated and already checked by
 * `normalizeArtifactPath` (no '..', no absolute paths, no NUL, no backslashes).
 */
export interface ArtifactStore {
  /** Human-readable root, e.g. file:///abs/dir or s3://bucket/prefix. */
  readonly rootUri: string;
  ready(): Promise<void>;
  /** Write a whole object; replaces an existing object at that path. */
  put(path: string, body: Readable | Buffer, contentLength?: number): Promise<void>;
  /** Read an object; throws KilnError NOT_FOUND when absent or when the path is a folder. */
  get(path: string): Promise<ArtifactObject>;
  /** Immediate children of a folder ('' is the root); [] when the folder does not exist. Sorted by path. */
  list(prefix: string): Promise<ArtifactEntry[]>;
  /** Delete a file or a whole folder; deleting nothing is not an error. */
  delete(path: string): Promise<void>;
  /** True when a file exists at path. */
  exists(path: string): Promise<boolean>;
  /** Safe to call twice. */
  close(): Promise<void>;
}
