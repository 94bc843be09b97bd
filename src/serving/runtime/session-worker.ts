/**
 * Worker thread holding one onnxruntime session of one model: loads the bytes it is given in workerData, says what
 * the model takes and gives, then answers run requests. onnxruntime-node runs a model synchronously in native code,
 * which would block an event loop: here it blocks only this thread. See session.ts for the protocol, kept lean
 * (arrays, transferred buffers) because it is the hot path.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { TensorSpec } from '../tensor.js';
import type { LoadMessage, RunReply, RunRequest, SessionWorkerData, WireTensor } from './session.js';

const port = parentPort;
const data = workerData as SessionWorkerData;

const message = (e: unknown): string => String((e as Error)?.message ?? e).trim();

function specs(names: readonly string[], meta: readonly ort.InferenceSession.ValueMetadata[]): TensorSpec[] {
  return names.map((name) => {
    const md = meta.find((m) => m.name === name);
    if (!md || !md.isTensor) return { name, type: 'unknown', shape: [] };
    return { name, type: String(md.type), shape: md.shape.map((d) => (typeof d === 'number' ? (d >= 0 ? d : null) : d === '' ? null : d)) };
  });
}

async function main(): Promise<void> {
  if (!port) return;
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(data.bytes, {
      logSeverityLevel: 3,
      executionProviders: ['cpu'],
      ...(data.intraOpThreads ? { intraOpNumThreads: data.intraOpThreads } : {}),
      ...(data.interOpThreads ? { interOpNumThreads: data.interOpThreads, executionMode: 'parallel' as const } : {}),
    });
  } catch (e) {
    port.postMessage({ ready: false, message: message(e) } satisfies LoadMessage);
    return;
  }
  const outputNames = session.outputNames;

  port.on('message', (req: RunRequest | number) => {
    if (typeof req === 'number') process.exit(req); // ModelSession._crashWorker, for tests
    const [id, feeds, wanted] = req;
    let pending: Promise<ort.InferenceSession.ReturnType>;
    try {
      const f: Record<string, ort.Tensor> = {};
      for (const t of feeds) f[t.name] = new ort.Tensor(t.type, t.data as ort.Tensor.DataType, t.dims);
      pending = wanted ? session.run(f, wanted) : session.run(f);
    } catch (e) {
      port.postMessage([id, false, message(e)] satisfies RunReply);
      return;
    }
    pending.then(
      (result) => {
        const out: WireTensor[] = [];
        const transfer = new Set<ArrayBuffer>();
        for (const name of wanted ?? outputNames) {
          const t = result[name];
          if (!t) continue;
          const d = t.data as WireTensor['data'];
          out.push({ name, type: t.type as WireTensor['type'], dims: t.dims, data: d });
          if (ArrayBuffer.isView(d) && d.buffer instanceof ArrayBuffer) transfer.add(d.buffer);
        }
        try {
          port.postMessage([id, true, out] satisfies RunReply, [...transfer]);
        } catch {
          port.postMessage([id, true, out] satisfies RunReply);
        }
      },
      (e: unknown) => port.postMessage([id, false, message(e)] satisfies RunReply),
    );
  });
  port.postMessage({ ready: true, inputs: specs(session.inputNames, session.inputMetadata), outputs: specs(outputNames, session.outputMetadata) } satisfies LoadMessage);
}

await main();
