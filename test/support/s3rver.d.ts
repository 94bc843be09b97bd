/** The part of s3rver (which ships no types) the test harness uses. */
declare module 's3rver' {
  interface S3rverOptions {
    address?: string;
    /** 0 picks a free port. */
    port?: number;
    silent?: boolean;
    /** Folder holding the buckets' data. */
    directory: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    /** Buckets created at start; `configs` are CORS or website configuration XML documents. */
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }
  export default class S3rver {
    constructor(options: S3rverOptions);
    /** Resolves with the address the HTTP server listens on. */
    run(): Promise<{ address: string; port: number; family: string }>;
    close(): Promise<void>;
  }
}
