/** Shared with the SDK, which owns the source: packages/sdk/src/contract/registry-schemas.ts. */
export * from '@kiln-mlops/sdk/contract/registry-schemas';
