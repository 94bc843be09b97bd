/** Shared with the SDK, which owns the source: packages/sdk/src/contract/data-schemas.ts. */
export * from '@kiln-mlops/sdk/contract/data-schemas';
