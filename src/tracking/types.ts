/** Shared with the SDK, which owns the source: packages/sdk/src/contract/tracking-types.ts. */
export * from '@kiln-mlops/sdk/contract/tracking-types';
