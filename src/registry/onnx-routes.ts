import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { RunArtifactService } from '../tracking/artifact-service.js';
import { invalid } from '../platform/errors.js';
import { inspectOnnx } from './packaging/onnx-inspect.js';
import { ErrorBody } from '../platform/http/schemas.js';
import { from, rule } from '../platform/auth/rules.js';
import * as S from '../tracking/schemas.js';
import { OnnxInfo } from './schemas.js';

export interface OnnxRouteDeps {
  readonly runArtifacts: RunArtifactService;
  /** Largest ONNX file inspected, in bytes (default 200 MB). */
  readonly maxBytes?: number;
}

export const ONNX_INSPECT_MAX_BYTES = 200 * 1024 * 1024;

/** `GET /runs/{run_id}/artifacts-onnx?path=` — an ONNX artifact's inputs, outputs, opsets and metadata (the UI's preview). */
export const onnxRoutes: FastifyPluginAsync<OnnxRouteDeps> = async (root, deps) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const max = deps.maxBytes ?? ONNX_INSPECT_MAX_BYTES;
  app.get(
    '/runs/:run_id/artifacts-onnx',
    {
      config: { permission: rule.read('run', from.params('run_id')) },
      schema: {
        tags: ['artifacts'],
        summary: "Inspect an ONNX file among a run's artifacts: inputs, outputs, opsets, metadata",
        params: S.RunIdParams,
        querystring: Type.Object({ path: Type.String({ minLength: 1 }) }),
        response: { 200: OnnxInfo, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (req) => {
      const path = req.query.path;
      if (!/\.onnx$/i.test(path)) throw invalid(`${path} is not an ONNX file (.onnx)`);
      const obj = await deps.runArtifacts.read(req.params.run_id, path);
      if (obj.size > max) {
        obj.body.destroy();
        throw invalid(`${path} is ${obj.size} bytes; inspection stops at ${max}`, { size: obj.size, limit: max });
      }
      const chunks: Buffer[] = [];
      let n = 0;
      for await (const c of obj.body) {
        const b = c as Buffer;
        n += b.length;
        if (n > max) {
          obj.body.destroy();
          throw invalid(`${path} is larger than ${max} bytes`, { limit: max });
        }
        chunks.push(b);
      }
      return inspectOnnx(new Uint8Array(Buffer.concat(chunks)));
    },
  );
};
