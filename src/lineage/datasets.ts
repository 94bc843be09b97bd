import { KilnError } from '../platform/errors.js';
import type { DatasetLookup, DatasetVersionRef } from './service.js';
import type { DataService } from '../data/service.js';
import type { DatasetVersion } from '../data/types.js';

const ref = (v: DatasetVersion): DatasetVersionRef => ({ name: v.name, version: v.version, digest: v.digest, mlflowDigest: v.mlflowDigest, rows: v.rows });

/** The data capability as the lineage graph sees it: dataset versions found by digest. */
export function datasetLookup(data: DataService): DatasetLookup {
  return {
    byDigests: async (digests) => (await data.versionsByDigests(digests)).map(ref),
    async get(name, version) {
      try {
        return ref(await data.getVersion(name, version));
      } catch (e) {
        if (e instanceof KilnError && (e.code === 'RESOURCE_DOES_NOT_EXIST' || e.code === 'INVALID_PARAMETER_VALUE')) return undefined;
        throw e;
      }
    },
  };
}
