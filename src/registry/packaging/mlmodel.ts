/** Shared with the SDK, which owns the source: packages/sdk/src/contract/mlmodel.ts. */
export * from '@kiln-mlops/sdk/contract/mlmodel';
