/** Shared with the SDK, which owns the source: packages/sdk/src/contract/tags.ts. */
export * from '@kiln-mlops/sdk/contract/tags';
