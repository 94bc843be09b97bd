import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { OIP_PROTO } from '../../src/serving/grpc/proto.js';

/** A client of the OIP gRPC service, as a Triton or KServe client would call it (promises instead of callbacks). */
export interface OipGrpcClient {
  call<T = any>(method: string, request: unknown, metadata?: Record<string, string>): Promise<T>;
  close(): void;
}

export function oipGrpcClient(port: number): OipGrpcClient {
  const def = protoLoader.fromJSON(protobuf.parse(OIP_PROTO, { keepCase: true }).root.toJSON(), { keepCase: true, longs: String, defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def) as any;
  const client = new pkg.inference.GRPCInferenceService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    call: (method, request, metadata = {}) =>
      new Promise((resolve, reject) => {
        const md = new grpc.Metadata();
        for (const [k, v] of Object.entries(metadata)) md.set(k, v);
        client[method](request, md, (e: grpc.ServiceError | null, r: any) => (e ? reject(e) : resolve(r)));
      }),
    close: () => client.close(),
  };
}
