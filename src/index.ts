/** The kiln-mlops package: the TypeScript SDK, plus the server for embedding and tests. */
export * from '@kiln-mlops/sdk';
export { createServer, type KilnServer } from './server.js';
export { loadConfig, type KilnConfig } from './platform/config.js';
