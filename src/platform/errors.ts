/** Shared with the SDK, which owns the source: packages/sdk/src/contract/errors.ts. */
export * from '@kiln-mlops/sdk/contract/errors';
