/**
 * Worker thread that inspects one ONNX model at a time: decodes the protobuf, loads it in onnxruntime to prove it
 * loads, and answers what it found. Runs off the main thread so the event loop stays free, and so a load that hangs
 * or blows up can be timed out and the worker terminated. See onnx-inspect.ts for the protocol.
 */
import { parentPort } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import onnx from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import type { OnnxInfo, OnnxTensorInfo, WorkerRequest, WorkerResponse } from './onnx-inspect.js';

const P = onnx.onnx;
const T = P.TensorProto.DataType;

/** ONNX element type number → onnxruntime's name for it. */
const ELEM_NAMES: Record<number, string> = {
  [T.FLOAT]: 'float32',
  [T.UINT8]: 'uint8',
  [T.INT8]: 'int8',
  [T.UINT16]: 'uint16',
  [T.INT16]: 'int16',
  [T.INT32]: 'int32',
  [T.INT64]: 'int64',
  [T.STRING]: 'string',
  [T.BOOL]: 'bool',
  [T.FLOAT16]: 'float16',
  [T.DOUBLE]: 'float64',
  [T.UINT32]: 'uint32',
  [T.UINT64]: 'uint64',
  [T.COMPLEX64]: 'complex64',
  [T.COMPLEX128]: 'complex128',
  [T.BFLOAT16]: 'bfloat16',
};

class Refusal extends Error {
  constructor(
    message: string,
    readonly missingExternal?: string[],
  ) {
    super(message);
  }
}

const num = (v: number | { toNumber(): number } | null | undefined): number =>
  v === null || v === undefined ? 0 : typeof v === 'number' ? v : v.toNumber();

function typeOf(vi: onnx.onnx.IValueInfoProto | undefined): { type: string; shape: (number | string | null)[] } {
  const t = vi?.type;
  if (t?.tensorType) {
    const dims = t.tensorType.shape?.dim ?? [];
    return {
      type: ELEM_NAMES[t.tensorType.elemType ?? 0] ?? `elem_type_${t.tensorType.elemType ?? 0}`,
      shape: dims.map((d) => {
        const dim = d as onnx.onnx.TensorShapeProto.Dimension;
        return dim.value === 'dimParam' && dim.dimParam ? dim.dimParam : dim.value === 'dimValue' ? num(dim.dimValue) : null;
      }),
    };
  }
  if (t?.sequenceType) return { type: 'sequence', shape: [] };
  if (t?.mapType) return { type: 'map', shape: [] };
  if (t?.sparseTensorType) return { type: `sparse_${ELEM_NAMES[t.sparseTensorType.elemType ?? 0] ?? 'tensor'}`, shape: [] };
  return { type: 'unknown', shape: [] };
}

function decode(bytes: Uint8Array): onnx.onnx.ModelProto {
  let m: onnx.onnx.ModelProto;
  try {
    m = P.ModelProto.decode(bytes);
  } catch (e) {
    throw new Refusal(`not an ONNX model: the bytes are not an ONNX protobuf (${(e as Error).message})`);
  }
  if (!m.graph || num(m.irVersion) <= 0) {
    throw new Refusal(`not an ONNX model: ${!m.graph ? 'there is no graph' : 'ir_version is missing'} in the decoded bytes`);
  }
  return m;
}

/** Puts the bytes of externally stored initializers back inside the model, so onnxruntime can load it from memory. */
function inlineExternalData(m: onnx.onnx.ModelProto, files: Record<string, Uint8Array>): boolean {
  const tensors = m.graph?.initializer ?? [];
  const external = tensors.filter((t) => t.dataLocation === P.TensorProto.DataLocation.EXTERNAL);
  if (external.length === 0) return false;
  const missing = new Set<string>();
  for (const t of external) {
    const kv = Object.fromEntries((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
    const loc = kv.location ?? '';
    const file = files[loc];
    if (!loc || loc.startsWith('/') || loc.split(/[\\/]/).includes('..')) {
      throw new Refusal(`ONNX model does not load: initializer ${t.name} has an unsafe external data location "${loc}"`);
    }
    if (!file) {
      missing.add(loc);
      continue;
    }
    const offset = Number(kv.offset ?? '0');
    const length = kv.length !== undefined ? Number(kv.length) : file.byteLength - offset;
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > file.byteLength) {
      throw new Refusal(
        `ONNX model does not load: initializer ${t.name} reads bytes ${offset}..${offset + length} of ${loc}, which holds ${file.byteLength} bytes`,
      );
    }
    t.rawData = file.subarray(offset, offset + length);
    t.externalData = [];
    t.dataLocation = P.TensorProto.DataLocation.DEFAULT;
  }
  if (missing.size > 0) {
    throw new Refusal(`ONNX model does not load: its weights are in external data file(s) not provided: ${[...missing].join(', ')}`, [...missing]);
  }
  return true;
}

async function inspect(req: WorkerRequest): Promise<OnnxInfo> {
  const bytes = req.bytes;
  if (bytes.byteLength === 0) throw new Refusal('not an ONNX model: the file is empty (0 bytes)');
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const m = decode(bytes);
  let loadBytes = bytes;
  let externalBytes = 0;
  if (inlineExternalData(m, req.external ?? {})) {
    loadBytes = P.ModelProto.encode(m).finish();
    externalBytes = Object.values(req.external ?? {}).reduce((s, b) => s + b.byteLength, 0);
  }
  const g = m.graph as onnx.onnx.IGraphProto;
  const initializers = new Set((g.initializer ?? []).map((t) => t.name ?? ''));
  const protoIn = new Map((g.input ?? []).map((v) => [v.name ?? '', v]));
  const protoOut = new Map((g.output ?? []).map((v) => [v.name ?? '', v]));

  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(loadBytes, { logSeverityLevel: 3, executionProviders: ['cpu'] });
  } catch (e) {
    const msg = String((e as Error).message ?? e).trim();
    throw new Refusal(`ONNX model does not load: ${msg}`);
  }
  const tensorInfo = (
    names: readonly string[],
    meta: readonly ort.InferenceSession.ValueMetadata[],
    proto: Map<string, onnx.onnx.IValueInfoProto>,
    skip: ReadonlySet<string>,
  ): OnnxTensorInfo[] =>
    names
      .filter((n) => !skip.has(n))
      .map((name) => {
        const md = meta.find((x) => x.name === name);
        const fromProto = typeOf(proto.get(name));
        if (md && md.isTensor) {
          return {
            name,
            type: String(md.type),
            shape: md.shape.map((d) => (typeof d === 'number' ? (d >= 0 ? d : null) : d === '' ? null : d)),
          };
        }
        return { name, ...fromProto };
      });
  const info: OnnxInfo = {
    ir_version: num(m.irVersion),
    opset: (m.opsetImport ?? []).map((o) => ({ domain: o.domain ?? '', version: num(o.version) })),
    producer_name: m.producerName ?? '',
    producer_version: m.producerVersion ?? '',
    domain: m.domain ?? '',
    model_version: num(m.modelVersion),
    graph_name: g.name ?? '',
    doc_string: m.docString || g.docString || '',
    metadata: Object.fromEntries((m.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? ''])),
    inputs: tensorInfo(session.inputNames, session.inputMetadata, protoIn, initializers),
    outputs: tensorInfo(session.outputNames, session.outputMetadata, protoOut, new Set()),
    size_bytes: bytes.byteLength + externalBytes,
    sha256,
  };
  await session.release();
  return info;
}

const port = parentPort;
if (port) {
  port.on('message', (req: WorkerRequest) => {
    inspect(req).then(
      (info) => port.postMessage({ id: req.id, ok: true, info } satisfies WorkerResponse),
      (e: unknown) => {
        const refusal = e instanceof Refusal;
        port.postMessage({
          id: req.id,
          ok: false,
          refused: refusal,
          message: refusal ? e.message : `ONNX model could not be inspected: ${(e as Error)?.message ?? String(e)}`,
          ...(refusal && e.missingExternal ? { missingExternal: e.missingExternal } : {}),
        } satisfies WorkerResponse);
      },
    );
  });
}
