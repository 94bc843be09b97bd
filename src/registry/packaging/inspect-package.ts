/**
 * Looks at a model's artifacts (an MLflow model folder, or a bare .onnx file) and decides whether the registry can
 * take it and whether Kiln can serve it. Reads through a small reader interface so it works on any artifact store.
 */
import type { Readable } from 'node:stream';
import type { ArtifactStore } from '../../platform/artifacts/types.js';
import { KilnError, isKilnError } from '../../platform/errors.js';
import type { ModelPackage } from '../schemas.js';
import { MAX_MLMODEL_BYTES, parseMLmodel, type MLmodel } from './mlmodel.js';
import { inspectOnnx, type InspectOnnxOptions, type OnnxInfo } from './onnx-inspect.js';
import { checkOnnxAgainstSignature, signatureFromOnnx } from './signature.js';

export interface PackageEntry {
  readonly path: string;
  readonly isDir: boolean;
  readonly size?: number;
}

/** Paths are relative to the store root, '/'-separated, as in ArtifactStore. */
export interface PackageReader {
  /** Immediate children of a folder; [] when it does not exist (or is a file). */
  list(path: string): Promise<PackageEntry[]>;
  /** The file's bytes. When the file holds more than maxBytes it may throw, or return more than maxBytes bytes. */
  read(path: string, maxBytes: number): Promise<Buffer>;
}

/** What an inspection records with the version (the `package` of the API): always a status, flavors, servability and sizes. */
export type PackageInspection = ModelPackage & Required<Pick<ModelPackage, 'status' | 'flavors' | 'servable' | 'files' | 'size_bytes' | 'warnings'>>;
export type PackageStatus = PackageInspection['status'];

export interface InspectPackageOptions {
  /** Largest .onnx file (and largest total of its external data) read; default 1 GiB. */
  readonly maxOnnxBytes?: number;
  /** Passed to inspectOnnx. */
  readonly timeoutMs?: number;
  /** Replaces inspectOnnx (e.g. a dedicated pool). */
  readonly inspect?: (bytes: Uint8Array, opts?: InspectOnnxOptions) => Promise<OnnxInfo>;
}

export const DEFAULT_MAX_ONNX_BYTES = 1024 * 1024 * 1024;
/** Listing stops counting after this many files. */
const MAX_WALK_FILES = 100_000;

const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
const parent = (p: string): string => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
const join = (a: string, b: string): string => (a === '' ? b : `${a}/${b}`);
const isOnnxFile = (e: PackageEntry): boolean => !e.isDir && base(e.path).toLowerCase().endsWith('.onnx');

/** A path inside the model folder, from a file name the MLmodel gives; undefined when it would leave the folder. */
function inside(root: string, rel: string): string | undefined {
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  if (rel.startsWith('/') || rel.includes('\\') || rel.includes('\0') || parts.includes('..') || parts.length === 0) return undefined;
  return join(root, parts.join('/'));
}

class Failed extends Error {}

interface Ctx {
  readonly reader: PackageReader;
  readonly root: string;
  readonly opts: InspectPackageOptions;
  readonly warnings: string[];
  flavors: string[];
  files: number;
  size: number;
  mlmodel?: MLmodel;
}

async function walk(reader: PackageReader, dir: string, acc: { files: number; size: number; truncated: boolean }, depth = 0): Promise<void> {
  if (depth > 32 || acc.truncated) return;
  for (const e of await reader.list(dir)) {
    if (e.isDir) await walk(reader, e.path, acc, depth + 1);
    else {
      acc.files++;
      acc.size += e.size ?? 0;
      if (acc.files >= MAX_WALK_FILES) {
        acc.truncated = true;
        return;
      }
    }
  }
}

async function readCapped(reader: PackageReader, path: string, max: number, what: string): Promise<Buffer> {
  let buf: Buffer;
  try {
    buf = await reader.read(path, max);
  } catch (e) {
    if (isKilnError(e) && e.code === 'REQUEST_TOO_LARGE') throw new Failed(`${what} ${path} is larger than ${max} bytes`);
    throw e;
  }
  if (buf.length > max) throw new Failed(`${what} ${path} is larger than ${max} bytes`);
  return buf;
}

/** Inspects the .onnx file at `path` (size from the listing when known), reading external data files when it names some. */
async function inspectOnnxAt(ctx: Ctx, entry: PackageEntry): Promise<OnnxInfo & { path: string }> {
  const max = ctx.opts.maxOnnxBytes ?? DEFAULT_MAX_ONNX_BYTES;
  const path = entry.path;
  if (entry.size === 0) throw new Failed(`the ONNX model file ${path} is empty (0 bytes)`);
  if (entry.size !== undefined && entry.size > max) throw new Failed(`the ONNX model file ${path} is ${entry.size} bytes; the limit is ${max}`);
  const bytes = await readCapped(ctx.reader, path, max, 'the ONNX model file');
  if (bytes.length === 0) throw new Failed(`the ONNX model file ${path} is empty (0 bytes)`);
  const inspect = ctx.opts.inspect ?? inspectOnnx;
  const timeout = ctx.opts.timeoutMs !== undefined ? { timeoutMs: ctx.opts.timeoutMs } : {};
  try {
    return { path, ...(await inspect(bytes, timeout)) };
  } catch (e) {
    if (!isKilnError(e) || e.code !== 'INVALID_PARAMETER_VALUE') throw e;
    const missing = e.details?.missing_external_data;
    if (!Array.isArray(missing)) throw new Failed(e.message);
    // Weights saved beside the model (onnx.save_model(save_as_external_data=True)): read them and try again.
    const external: Record<string, Uint8Array> = {};
    let total = 0;
    for (const loc of missing as string[]) {
      const p = inside(parent(path), loc);
      if (!p) throw new Failed(`the ONNX model names an external data file outside its folder: ${loc}`);
      const siblings = await ctx.reader.list(parent(p));
      if (!siblings.some((s) => s.path === p && !s.isDir)) {
        throw new Failed(`ONNX model does not load: its external data file ${p} does not exist`);
      }
      const data = await readCapped(ctx.reader, p, max - total, 'the external data of the ONNX model, at');
      total += data.length;
      external[loc] = data;
    }
    try {
      return { path, ...(await inspect(bytes, { ...timeout, externalData: external })) };
    } catch (e2) {
      if (isKilnError(e2) && e2.code === 'INVALID_PARAMETER_VALUE') throw new Failed(e2.message);
      throw e2;
    }
  }
}

function result(ctx: Ctx, fields: Partial<PackageInspection> & { status: PackageStatus; servable: boolean }): PackageInspection {
  return {
    flavors: ctx.flavors,
    ...(ctx.mlmodel ? { mlmodel: ctx.mlmodel } : {}),
    files: ctx.files,
    size_bytes: ctx.size,
    warnings: ctx.warnings,
    ...fields,
  };
}

async function inspectBareOnnx(ctx: Ctx, entry: PackageEntry): Promise<PackageInspection> {
  ctx.flavors = ['onnx'];
  const onnx = await inspectOnnxAt(ctx, entry);
  return result(ctx, { status: 'READY', servable: true, onnx, signature: signatureFromOnnx(onnx), signature_source: 'onnx' });
}

async function inspectMLflowModel(ctx: Ctx, entries: PackageEntry[], mlmodelEntry: PackageEntry): Promise<PackageInspection> {
  const { reader, root } = ctx;
  if (mlmodelEntry.size !== undefined && mlmodelEntry.size > MAX_MLMODEL_BYTES) {
    throw new Failed(`MLmodel: the file is ${mlmodelEntry.size} bytes; the limit is ${MAX_MLMODEL_BYTES}`);
  }
  const text = (await readCapped(reader, mlmodelEntry.path, MAX_MLMODEL_BYTES, 'MLmodel:')).toString('utf8');
  let m: MLmodel;
  try {
    m = parseMLmodel(text);
  } catch (e) {
    if (isKilnError(e)) throw new Failed(e.message);
    throw e;
  }
  ctx.mlmodel = m;
  ctx.flavors = Object.keys(m.flavors);

  let input_example: PackageInspection['input_example'];
  const ex = m.saved_input_example_info;
  if (ex) {
    const p = inside(root, ex.artifact_path);
    const found = p ? entries.find((e) => e.path === p && !e.isDir) : undefined;
    if (!p || !found) ctx.warnings.push(`MLmodel names an input example ${ex.artifact_path} that is not in the model folder`);
    else {
      input_example = {
        path: p,
        type: ex.type,
        ...(typeof ex.format === 'string' ? { format: ex.format } : {}),
        ...(typeof ex.serving_input_path === 'string' ? { serving_input_path: join(root, ex.serving_input_path) } : {}),
        ...(found.size !== undefined ? { size_bytes: found.size } : {}),
      };
    }
  }
  const common = { ...(input_example ? { input_example } : {}) };

  const onnxFlavor = m.flavors.onnx;
  if (!onnxFlavor) {
    const names = ctx.flavors.filter((f) => f !== 'python_function');
    const flavor = names[0] ?? ctx.flavors[0] ?? 'unknown';
    return result(ctx, {
      status: 'READY',
      servable: false,
      not_servable_reason: `flavor ${flavor} is not servable by Kiln; ONNX is`,
      ...(m.signature ? { signature: m.signature, signature_source: 'mlmodel' as const } : {}),
      ...common,
    });
  }
  const data = typeof onnxFlavor.data === 'string' && onnxFlavor.data !== '' ? onnxFlavor.data : 'model.onnx';
  const path = inside(root, data);
  if (!path) throw new Failed(`MLmodel: the onnx flavor's data ${JSON.stringify(data)} points outside the model folder`);
  const siblings = parent(path) === root ? entries : await reader.list(parent(path));
  const entry = siblings.find((e) => e.path === path);
  if (!entry) throw new Failed(`the onnx flavor names ${data} but ${path} does not exist`);
  if (entry.isDir) throw new Failed(`the onnx flavor names ${data} but ${path} is a folder, not an ONNX file`);
  const onnx = await inspectOnnxAt(ctx, entry);
  if (m.signature) {
    const check = checkOnnxAgainstSignature(onnx, m.signature);
    ctx.warnings.push(...check.warnings);
    if (!check.ok) {
      throw new Failed(`the ONNX model does not match the MLmodel signature: ${check.problems.join('; ')}`, { cause: { onnx } });
    }
    return result(ctx, { status: 'READY', servable: true, onnx, signature: m.signature, signature_source: 'mlmodel', ...common });
  }
  return result(ctx, { status: 'READY', servable: true, onnx, signature: signatureFromOnnx(onnx), signature_source: 'onnx', ...common });
}

/**
 * Inspects the model at `root` (a folder, or a single .onnx file) in the store `reader` reads.
 *
 * - a folder with an MLmodel: parsed (malformed → FAILED_REGISTRATION with the parser's message); an `onnx` flavor's
 *   file is inspected and checked against the signature (mismatch → FAILED_REGISTRATION listing the problems); other
 *   flavors → READY but not servable;
 * - a bare .onnx file, or a folder with exactly one .onnx and no MLmodel → READY, servable, signature from the model;
 * - nothing at root, an empty or unreadable model → FAILED_REGISTRATION with the reason.
 *
 * Errors that say nothing about the model (the store failing, the inspection worker dying) are thrown.
 */
export async function inspectModelPackage(reader: PackageReader, root: string, opts: InspectPackageOptions = {}): Promise<PackageInspection> {
  const clean = root.replace(/^\/+|\/+$/g, '');
  const ctx: Ctx = { reader, root: clean, opts, warnings: [], flavors: [], files: 0, size: 0 };
  try {
    const entries = await reader.list(clean);
    if (entries.length === 0) {
      // root may be a file rather than a folder
      const self = clean === '' ? undefined : (await reader.list(parent(clean))).find((e) => e.path === clean && !e.isDir);
      if (!self) throw new Failed(`no model artifacts at ${clean || '/'} (nothing is stored there)`);
      ctx.files = 1;
      ctx.size = self.size ?? 0;
      if (!isOnnxFile(self)) {
        throw new Failed(`${clean} is a single file that is not a model: register a folder with an MLmodel file, or an .onnx file`);
      }
      return await inspectBareOnnx(ctx, self);
    }
    const acc = { files: 0, size: 0, truncated: false };
    await walk(reader, clean, acc);
    ctx.files = acc.files;
    ctx.size = acc.size;
    if (acc.truncated) ctx.warnings.push(`the model folder holds more than ${MAX_WALK_FILES} files; files and size_bytes count the first ${MAX_WALK_FILES}`);
    if (acc.files === 0) throw new Failed(`no model artifacts at ${clean || '/'} (the folder holds no files)`);

    const mlmodelEntry = entries.find((e) => !e.isDir && base(e.path) === 'MLmodel');
    if (mlmodelEntry) return await inspectMLflowModel(ctx, entries, mlmodelEntry);
    const onnxFiles = entries.filter(isOnnxFile);
    if (onnxFiles.length === 1) return await inspectBareOnnx(ctx, onnxFiles[0] as PackageEntry);
    if (onnxFiles.length > 1) {
      throw new Failed(
        `${clean || '/'} has no MLmodel file and ${onnxFiles.length} .onnx files (${onnxFiles.map((e) => base(e.path)).join(', ')}); add an MLmodel naming the model, or register one file`,
      );
    }
    throw new Failed(`${clean || '/'} is not a model: it has no MLmodel file and no .onnx file`);
  } catch (e) {
    if (!(e instanceof Failed)) throw e;
    const onnx = (e.cause as { onnx?: OnnxInfo & { path: string } } | undefined)?.onnx;
    return result(ctx, {
      status: 'FAILED_REGISTRATION',
      status_message: e.message,
      servable: false,
      not_servable_reason: e.message,
      ...(onnx ? { onnx } : {}),
      ...(ctx.mlmodel?.signature ? { signature: ctx.mlmodel.signature, signature_source: 'mlmodel' as const } : {}),
    });
  }
}

async function readStream(body: Readable, path: string, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of body) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      n += b.length;
      if (n > maxBytes) throw new KilnError('REQUEST_TOO_LARGE', `${path} is larger than ${maxBytes} bytes`);
      chunks.push(b);
    }
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks, n);
}

/** A PackageReader over an ArtifactStore; a file larger than maxBytes stops reading with REQUEST_TOO_LARGE. */
export function artifactStoreReader(store: Pick<ArtifactStore, 'list' | 'get'>): PackageReader {
  return {
    list: (path) => store.list(path),
    read: async (path, maxBytes) => {
      const obj = await store.get(path);
      if (obj.size > maxBytes) {
        obj.body.destroy();
        throw new KilnError('REQUEST_TOO_LARGE', `${path} is larger than ${maxBytes} bytes`);
      }
      return readStream(obj.body, path, maxBytes);
    },
  };
}
