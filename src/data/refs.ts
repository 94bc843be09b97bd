/** Shared with the SDK, which owns the source: packages/sdk/src/contract/dataset-refs.ts. */
export * from '@kiln-mlops/sdk/contract/dataset-refs';
