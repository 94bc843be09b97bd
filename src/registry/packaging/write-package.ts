/** Shared with the SDK, which owns the source: packages/sdk/src/contract/write-package.ts. */
export * from '@kiln-mlops/sdk/contract/write-package';
