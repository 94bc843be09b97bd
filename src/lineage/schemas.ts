/** Shared with the SDK, which owns the source: packages/sdk/src/contract/lineage-schemas.ts. */
export * from '@kiln-mlops/sdk/contract/lineage-schemas';
