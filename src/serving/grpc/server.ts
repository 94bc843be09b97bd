/**
 * The Open Inference Protocol over gRPC (`inference.GRPCInferenceService`, @grpc/grpc-js) on its own port: the same
 * serving plane, checks and rules as the REST endpoints. Inputs arrive typed (`contents`) or raw
 * (`raw_input_contents`); outputs go back raw (`raw_output_contents`), as Triton answers.
 */
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { KilnError, invalid, isKilnError } from '../../platform/errors.js';
import { runInContext, type RequestContext } from '../../platform/auth/context.js';
import type { RouteRule } from '../../platform/auth/rules.js';
import type { OutsideCall } from '../../platform/http/auth.js';
import { VERSION } from '../../version.js';
import { newTimeOrderedId } from '../../platform/ids.js';
import type { ServingPlane } from '../plane.js';
import { modelMetadata } from '../protocol/check.js';
import { toTensorData } from '../protocol/values.js';
import { decodeRawTensor, encodeTensor } from '../protocol/oip-binary.js';
import { ELEMENT_TO_OIP as OIP_DATATYPE_OF, OIP_DATATYPES, OIP_TO_ELEMENT, elementCount, type OipDatatype, type Tensor } from '../tensor.js';
import { OIP_PROTO } from './proto.js';

type Long = string;
interface Contents {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: Long[];
  uint_contents?: number[];
  uint64_contents?: Long[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Buffer[];
}
interface InferRequest {
  model_name: string;
  model_version: string;
  id: string;
  inputs: { name: string; datatype: string; shape: Long[]; contents?: Contents | null }[];
  outputs: { name: string }[];
  raw_input_contents: Buffer[];
}

export interface GrpcDeps {
  readonly plane: ServingPlane;
  readonly ready: () => boolean;
  readonly authorize: (call: OutsideCall) => Promise<RequestContext>;
  /** Largest message in bytes. */
  readonly maxMessageBytes: number;
}

const inferRule = (): RouteRule => ({ access: 'project', role: 'viewer', on: { kind: 'deployment', id: (req) => (req.params as { name?: string }).name }, scope: 'infer' });

let definition: protoLoader.PackageDefinition | undefined;
function serviceDefinition(): grpc.ServiceDefinition {
  definition ??= protoLoader.fromJSON(protobuf.parse(OIP_PROTO, { keepCase: true }).root.toJSON(), { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { inference: { GRPCInferenceService: { service: grpc.ServiceDefinition } } };
  return pkg.inference.GRPCInferenceService.service;
}

/** gRPC status for a KilnError's HTTP status. */
function statusOf(e: unknown): grpc.status {
  if (!isKilnError(e)) return grpc.status.INTERNAL;
  switch (e.status) {
    case 400:
    case 413:
    case 415:
      return grpc.status.INVALID_ARGUMENT;
    case 401:
      return grpc.status.UNAUTHENTICATED;
    case 403:
      return grpc.status.PERMISSION_DENIED;
    case 404:
      return grpc.status.NOT_FOUND;
    case 409:
      return grpc.status.FAILED_PRECONDITION;
    case 429:
      return grpc.status.RESOURCE_EXHAUSTED;
    case 503:
      return grpc.status.UNAVAILABLE;
    default:
      return grpc.status.INTERNAL;
  }
}

function headersOf(md: grpc.Metadata): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(md.getMap())) out[k.toLowerCase()] = typeof v === 'string' ? v : v.toString('utf8');
  return out;
}

/** A typed input (`contents`) as a tensor, checked like the REST body. */
function contentsTensor(name: string, datatype: OipDatatype, dims: number[], c: Contents | null | undefined): Tensor {
  const n = elementCount(dims);
  const type = OIP_TO_ELEMENT[datatype];
  const pick = (): unknown[] => {
    switch (datatype) {
      case 'BOOL':
        return c?.bool_contents ?? [];
      case 'INT8':
      case 'INT16':
      case 'INT32':
        return c?.int_contents ?? [];
      case 'INT64':
        return c?.int64_contents ?? [];
      case 'UINT8':
      case 'UINT16':
      case 'UINT32':
        return c?.uint_contents ?? [];
      case 'UINT64':
        return c?.uint64_contents ?? [];
      case 'FP32':
        return c?.fp32_contents ?? [];
      case 'FP64':
        return c?.fp64_contents ?? [];
      case 'BYTES':
        return c?.bytes_contents ?? [];
      case 'FP16':
        throw invalid(`input '${name}': FP16 travels as raw_input_contents over gRPC (the protocol has no typed field for it).`);
    }
  };
  const values = pick();
  if (values.length !== n) throw invalid(`input '${name}': shape [${dims.join(', ')}] holds ${n} values but its contents have ${values.length}.`);
  // The same checks as the JSON body's values (integers in range, finite floats, 64-bit integers exact).
  const what = `input '${name}'`;
  return { name, type, dims, data: toTensorData(type === 'string' ? (values as Buffer[]).map((b) => b.toString('utf8')) : values, type, what) };
}

export function requestTensors(r: InferRequest): Tensor[] {
  if (!Array.isArray(r.inputs) || r.inputs.length === 0) throw invalid("The request has no inputs: give each input's name, datatype, shape and contents (or raw_input_contents).");
  const raw = r.raw_input_contents ?? [];
  if (raw.length > 0 && raw.length !== r.inputs.length) throw invalid(`raw_input_contents has ${raw.length} entries for ${r.inputs.length} inputs: give one per input, in order.`);
  const seen = new Set<string>();
  return r.inputs.map((t, i) => {
    if (!t.name) throw invalid(`input ${i} has no name.`);
    if (seen.has(t.name)) throw invalid(`input '${t.name}' is given twice.`);
    seen.add(t.name);
    if (!(OIP_DATATYPES as readonly string[]).includes(t.datatype)) throw invalid(`input '${t.name}': unknown datatype '${t.datatype}' (one of ${OIP_DATATYPES.join(', ')}).`);
    const dims = (t.shape ?? []).map((d) => Number(d));
    if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw invalid(`input '${t.name}': shape must be non-negative integers, got [${(t.shape ?? []).join(', ')}].`);
    const datatype = t.datatype as OipDatatype;
    return raw.length > 0 ? decodeRawTensor(t.name, datatype, dims, raw[i]!) : contentsTensor(t.name, datatype, dims, t.contents);
  });
}

export class GrpcInferenceServer {
  private server: grpc.Server | undefined;
  port = 0;

  constructor(private readonly deps: GrpcDeps) {}

  async start(host: string, port: number): Promise<number> {
    const { plane } = this.deps;
    const server = new grpc.Server({ 'grpc.max_receive_message_length': this.deps.maxMessageBytes, 'grpc.max_send_message_length': this.deps.maxMessageBytes });
    type Call<Req> = grpc.ServerUnaryCall<Req, unknown>;
    const unary =
      <Req>(name: string, rule: (req: Req) => { rule: RouteRule; params: Record<string, string> } | undefined, fn: (req: Req, call: Call<Req>) => Promise<unknown>) =>
      (call: Call<Req>, callback: grpc.sendUnaryData<unknown>) => {
        const id = randomUUID();
        const run = async () => {
          const r = rule(call.request);
          const headers = headersOf(call.metadata);
          const ip = call.getPeer();
          const ctx = await this.deps.authorize({ headers, ip, id, name: `gRPC ${name}`, rule: r?.rule ?? { access: 'public' }, params: r?.params ?? {} });
          return runInContext(ctx, () => fn(call.request, call));
        };
        run().then(
          (res) => callback(null, res),
          (e: unknown) => {
            const details = isKilnError(e) ? e.message : 'Internal server error.';
            const md = new grpc.Metadata();
            if (isKilnError(e) && e.status === 503) md.set('retry-after', String((e.details?.retry_after_seconds as number | undefined) ?? 1));
            callback({ code: statusOf(e), details, metadata: md });
          },
        );
      };
    const model = (req: { name?: string; model_name?: string }) => {
      const name = req.name ?? req.model_name ?? '';
      return { rule: inferRule(), params: { name } };
    };
    server.addService(serviceDefinition(), {
      ServerLive: unary('ServerLive', () => undefined, async () => ({ live: true })),
      ServerReady: unary('ServerReady', () => undefined, async () => ({ ready: this.deps.ready() })),
      ServerMetadata: unary('ServerMetadata', () => undefined, async () => ({ name: 'kiln', version: VERSION, extensions: ['binary_tensor_data'] })),
      ModelReady: unary<{ name: string; version: string }>('ModelReady', model, async (req) => {
        const units = req.version ? [plane.pick(req.name, req.version, { header: () => undefined })] : plane.plan(req.name).targets.filter((t) => t.weight > 0).map((t) => t.unit);
        const ready = units.every((u) => u.state().state === 'ready');
        if (!ready) for (const u of units) void u.warm(300_000).catch(() => undefined);
        return { ready };
      }),
      ModelMetadata: unary<{ name: string; version: string }>('ModelMetadata', model, async (req) => {
        const p = plane.plan(req.name);
        const unit = req.version ? plane.pick(req.name, req.version, { header: () => undefined }) : p.targets.find((t) => t.weight > 0)!.unit;
        const versions = req.version ? [req.version] : [...new Set(p.targets.map((t) => String(t.unit.version)))];
        return modelMetadata(req.name, versions, unit.inputs, unit.outputs);
      }),
      ModelInfer: unary<InferRequest>('ModelInfer', model, async (req, call) => {
        if (!req.model_name) throw invalid('model_name is required: the deployment to call.');
        plane.plan(req.model_name);
        const inputs = requestTensors(req);
        const headers = headersOf(call.metadata);
        const requestId = req.id || newTimeOrderedId();
        const r = await plane.infer(req.model_name, req.model_version || undefined, inputs, req.outputs?.length ? req.outputs : undefined, { protocol: 'oip-grpc', requestId, header: (h) => headers[h.toLowerCase()] });
        return {
          model_name: req.model_name,
          model_version: String(r.version),
          id: requestId,
          outputs: r.outputs.map((t) => ({ name: t.name, datatype: OIP_DATATYPE_OF[t.type], shape: t.dims.map(String) })),
          raw_output_contents: r.outputs.map(encodeTensor),
        };
      }),
    });
    this.port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(new KilnError('INVALID_STATE', `gRPC could not listen on ${host}:${port}: ${e.message}`)) : resolve(p)));
    });
    this.server = server;
    return this.port;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => {
        s.forceShutdown();
        resolve();
      }, 5000);
      s.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
  }
}
