/** Shared with the SDK, which owns the source: packages/sdk/src/contract/http-schemas.ts. */
export * from '@kiln-mlops/sdk/contract/http-schemas';
