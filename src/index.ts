/** The kiln-mlops package: the TypeScript SDK, plus the server for embedding and tests. */
export * from './sdk/index.js';
export { createServer, type KilnServer } from './server.js';
export { loadConfig, type KilnConfig } from './platform/config.js';
