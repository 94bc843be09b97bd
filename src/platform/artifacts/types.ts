import type { Readable } from 'node:stream';

/** One entry of an artifact listing. `path` is relative to the store root, '/'-separated. */
export interface ArtifactEntry {
  readonly path: string;
  readonly isDir: boolean;
  /** Size in bytes for files; undefined for folders. */
  readonly size?: number;
}

export interface ArtifactObject {
  /** The bytes. The caller must read it to the end or destroy it: it holds a file or a connection open. */
  readonly body: Readable;
  readonly size: number;
}

/**
 * A place where artifact bytes live. Paths are relative and '/'-separated; callers check them with
 * `normalizeArtifactPath` (no '..', no absolute paths, no NUL, no backslashes) and every store checks them again, so an
 * unsafe path is refused with INVALID_PARAMETER_VALUE whoever forgot.
 *
 * Folders exist only through the files below them, as on S3: a folder with no file left is not listed, and a store
 * never holds an empty folder.
 */
export interface ArtifactStore {
  /** Human-readable root, e.g. file:///abs/dir or s3://bucket/prefix. */
  readonly rootUri: string;
  /** Prepares the store (creates the local folder, checks that the bucket answers); fails with a clear message. */
  ready(): Promise<void>;
  /**
   * Writes a whole object, replacing any object at that path; readers see the old bytes or the new ones, never a part.
   * When the body fails, or `contentLength` is given and the body's length differs (INVALID_PARAMETER_VALUE), nothing
   * is stored and the old object stays.
   */
  put(path: string, body: Readable | Buffer, contentLength?: number): Promise<void>;
  /** Reads an object; throws KilnError RESOURCE_DOES_NOT_EXIST when absent or when the path is a folder. */
  get(path: string): Promise<ArtifactObject>;
  /** Immediate children of a folder ('' is the root); [] when the folder does not exist. Sorted by path. */
  list(prefix: string): Promise<ArtifactEntry[]>;
  /** Deletes a file or a whole folder; deleting nothing is not an error. The root ('') cannot be deleted. */
  delete(path: string): Promise<void>;
  /** True when a file exists at path. */
  exists(path: string): Promise<boolean>;
  /** Releases connections. Safe to call twice. */
  close(): Promise<void>;
}
