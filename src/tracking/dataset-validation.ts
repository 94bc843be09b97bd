import { invalid } from '../platform/errors.js';
import type { DatasetInput } from './types.js';
import { describeValue as describe } from '../platform/validation.js';
import { LIMITS } from './validation.js';

function str(field: string, v: unknown, max: number, required = true): string | undefined {
  if (v === undefined || v === null || v === '') {
    if (required) throw invalid(`Dataset ${field} is required`);
    return undefined;
  }
  if (typeof v !== 'string') throw invalid(`Dataset ${field} must be a string, got ${describe(v)}`);
  if (v.length > max) throw invalid(`Dataset ${field} had length ${v.length}, which exceeded length limit of ${max}`);
  return v;
}

/** MLflow's dataset input limits (name 500, digest 36, schema 1 MiB, source 64 KiB, profile 16 MiB, input tags 255/500). */
export function validateDatasetInputs(inputs: readonly DatasetInput[]): DatasetInput[] {
  if (!Array.isArray(inputs)) throw invalid('datasets must be a list');
  return inputs.map((input, i) => {
    if (typeof input !== 'object' || input === null || typeof input.dataset !== 'object' || input.dataset === null) {
      throw invalid(`datasets[${i}].dataset is required`);
    }
    const d = input.dataset;
    const tags = (input.tags ?? []).map((t: { key?: unknown; value?: unknown } | null) => {
      const key = str('input tag key', t?.key, LIMITS.maxInputTagKeyLength)!;
      const value = str('input tag value', t?.value, LIMITS.maxInputTagValueLength, false) ?? '';
      return { key, value };
    });
    return {
      dataset: {
        name: str('name', d.name, LIMITS.maxDatasetNameLength)!,
        digest: str('digest', d.digest, LIMITS.maxDatasetDigestLength)!,
        sourceType: str('source_type', d.sourceType, LIMITS.maxDatasetSourceLength)!,
        source: str('source', d.source, LIMITS.maxDatasetSourceLength)!,
        schema: str('schema', d.schema, LIMITS.maxDatasetSchemaLength, false) ?? null,
        profile: str('profile', d.profile, LIMITS.maxDatasetProfileLength, false) ?? null,
      },
      tags,
    };
  });
}
