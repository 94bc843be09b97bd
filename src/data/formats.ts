/** Shared with the SDK, which owns the source: packages/sdk/src/contract/data-formats.ts. */
export * from '@kiln-mlops/sdk/contract/data-formats';
