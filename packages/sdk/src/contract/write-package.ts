/**
 * Builds the folder `mlflow.onnx.log_model` writes, from ONNX bytes, so the TypeScript SDK can log ONNX models that
 * MLflow's Python (`mlflow.pyfunc.load_model`, `mlflow.onnx.load_model`, `mlflow models serve`) and Kiln both read.
 */
import { randomUUID } from 'node:crypto';
import { invalid } from './errors.js';
import { writeMLmodel, type InputExampleInfo, type MLmodel, type Signature } from './mlmodel.js';
import type { OnnxInfo } from './registry-schemas.js';
import { checkOnnxAgainstSignature, signatureFromOnnx } from './signature.js';

export interface BuildOnnxModelPackageOptions {
  readonly onnx: Uint8Array;
  /** Default: the tensor signature derived from the model. A given signature must match the model. */
  readonly signature?: Signature;
  /**
   * A nested array of numbers (one input; `ndarray`), an object of such arrays keyed by input name (`ndarray`), or
   * any other JSON value (`json_object`).
   */
  readonly inputExample?: unknown;
  readonly runId?: string;
  /** The artifact path the folder is logged under, written as MLmodel's artifact_path. */
  readonly artifactPath?: string;
  /**
   * requirements.txt lines, for a reader that will load the model with Python. Without them no requirements.txt is
   * written: a model that no Python produced has no Python environment to record.
   */
  readonly pipRequirements?: readonly string[];
  /** Extra MLmodel `metadata`. */
  readonly metadata?: Record<string, unknown>;
  /** For tests: the creation time and uuid written. */
  readonly now?: Date;
  readonly modelUuid?: string;
  /**
   * Inspects the ONNX bytes: the server passes inspectOnnx (onnxruntime in a worker thread); the SDK asks the server,
   * which keeps onnxruntime out of the SDK.
   */
  readonly inspect: (bytes: Uint8Array) => Promise<OnnxInfo>;
}

export interface PackageFile {
  /** Relative to the model folder. */
  readonly path: string;
  readonly bytes: Buffer;
}

export const MODEL_DATA_FILE = 'model.onnx';

/** Python's str(datetime.utcnow()): 'YYYY-MM-DD HH:MM:SS.ffffff'. */
function pythonUtc(d: Date): string {
  const iso = d.toISOString(); // 2024-01-02T03:04:05.678Z
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}.${iso.slice(20, 23)}000`;
}

/** NaN and infinities become null, as MLflow writes them in input examples. */
function jsonSafe(v: unknown): unknown {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'bigint') return Number(v);
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>, jsonSafe);
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x)]));
  return v;
}

const isNumericArray = (v: unknown): boolean =>
  (ArrayBuffer.isView(v) && !(v instanceof DataView)) ||
  (Array.isArray(v) && v.every((x) => typeof x === 'number' || typeof x === 'boolean' || typeof x === 'string' || x === null || isNumericArray(x)));

/** The input example files and their MLmodel info, as MLflow 2.17+ writes them (input_example.json + serving_input_example.json). */
function inputExampleFiles(example: unknown, onnx: OnnxInfo): { files: PackageFile[]; info: InputExampleInfo } {
  const data = jsonSafe(example);
  let type: 'ndarray' | 'json_object';
  if (isNumericArray(example)) type = 'ndarray';
  else if (
    typeof example === 'object' &&
    example !== null &&
    Object.keys(example).length > 0 &&
    Object.entries(example).every(([k, v]) => onnx.inputs.some((i) => i.name === k) && isNumericArray(v))
  ) {
    type = 'ndarray';
  } else type = 'json_object';
  const serving = JSON.stringify({ inputs: data }, null, 2);
  return {
    files: [
      { path: 'input_example.json', bytes: Buffer.from(JSON.stringify(data)) },
      { path: 'serving_input_example.json', bytes: Buffer.from(serving) },
    ],
    info: { artifact_path: 'input_example.json', serving_input_path: 'serving_input_example.json', type },
  };
}

/**
 * The files of an MLflow ONNX model folder: MLmodel (flavors onnx and python_function), model.onnx, the input example
 * files when given, and requirements.txt when pipRequirements are given. No conda.yaml or python_env.yaml and no
 * python_version, onnx_version or mlflow_version: those would describe a Python environment that never existed (the
 * run's tags record the real one: Node version, platform, package manifest and lockfile digests). MLflow's loaders
 * need none of them. The model is inspected first: bytes that do not load, or a signature that does not match them,
 * are refused with INVALID_PARAMETER_VALUE.
 */
export async function buildOnnxModelPackage(opts: BuildOnnxModelPackageOptions): Promise<PackageFile[]> {
  const onnx = await opts.inspect(opts.onnx);
  const signature = opts.signature ?? signatureFromOnnx(onnx);
  if (opts.signature) {
    const check = checkOnnxAgainstSignature(onnx, opts.signature);
    if (!check.ok) throw invalid(`the signature does not match the ONNX model: ${check.problems.join('; ')}`);
  }
  const modelBytes = Buffer.from(opts.onnx.buffer, opts.onnx.byteOffset, opts.onnx.byteLength);
  const files: PackageFile[] = [{ path: MODEL_DATA_FILE, bytes: modelBytes }];
  let exampleInfo: InputExampleInfo | undefined;
  if (opts.inputExample !== undefined) {
    const ex = inputExampleFiles(opts.inputExample, onnx);
    files.push(...ex.files);
    exampleInfo = ex.info;
  }
  // MLflow measures the folder before it writes MLmodel.
  const modelSize = files.reduce((s, f) => s + f.bytes.length, 0);

  const requirements = opts.pipRequirements;
  for (const line of requirements ?? []) {
    if (/[\r\n]/.test(line) || line.trim() === '') throw invalid(`pipRequirements: each requirement is one non-empty line, got ${JSON.stringify(line)}`);
  }
  const mlmodel: MLmodel = {
    ...(opts.artifactPath !== undefined ? { artifact_path: opts.artifactPath } : {}),
    flavors: {
      onnx: {
        code: null,
        data: MODEL_DATA_FILE,
        onnx_session_options: null,
        providers: ['CPUExecutionProvider'],
      },
      python_function: {
        data: MODEL_DATA_FILE,
        loader_module: 'mlflow.onnx',
      },
    },
    model_size_bytes: modelSize,
    model_uuid: opts.modelUuid ?? randomUUID().replace(/-/g, ''),
    ...(opts.runId !== undefined ? { run_id: opts.runId } : {}),
    ...(exampleInfo ? { saved_input_example_info: exampleInfo } : {}),
    signature,
    utc_time_created: pythonUtc(opts.now ?? new Date()),
    ...(opts.metadata ? { metadata: opts.metadata } : {}),
    extra: {},
  };
  files.unshift({ path: 'MLmodel', bytes: Buffer.from(writeMLmodel(mlmodel)) });
  if (requirements) files.push({ path: 'requirements.txt', bytes: Buffer.from(requirements.join('\n')) });
  return files;
}
