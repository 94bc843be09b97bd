/** Shared with the SDK, which owns the source: packages/sdk/src/contract/signature.ts. */
export * from '@kiln-mlops/sdk/contract/signature';
