import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';

/**
 * The import boundaries of eslint.config.js, checked on deliberate violations: each case lints a one-line file as if
 * it lived at `file`, and expects the boundary rule to fire (or not).
 */
const eslint = new ESLint({ cwd: process.cwd() });
const RULE = '@typescript-eslint/no-restricted-imports';

async function boundaryErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport {};\n`, { filePath: file });
  return result!.messages.filter((m) => m.ruleId === RULE).map((m) => m.message);
}

const refused: [string, string, string, RegExp][] = [
  ['the platform importing a capability', 'src/platform/events/log.ts', "import type { RegistryService } from '../../registry/service.js';", /platform\/ imports no capability/],
  ['the platform importing the composition root', 'src/platform/http/app.ts', "import { createServer } from '../../server.js';", /platform\/ imports no capability/],
  ["a capability reading another's store", 'src/registry/service.ts', "import { RunStore } from '../tracking/run-store.js';", /only through its service, public types/],
  ["a capability reading another's tables", 'src/lineage/service.ts', "import type { RegistryTables } from '../registry/tables.js';", /only through its service, public types/],
  ["a capability importing another's routes", 'src/webhooks/module.ts', "import { registryRoutes } from '../registry/routes.js';", /only through its service, public types/],
  ["a capability constructing another's service", 'src/lineage/module.ts', "import { TrackingService } from '../tracking/service.js';", /as a type only/],
  ['the SDK importing the profiler', 'packages/sdk/src/data.ts', "import { profileSources } from '../../../src/data/profile/index.js';", /imports only node builtins, @sinclair\/typebox, yaml and its own files/],
  ['the SDK importing the ONNX inspector', 'packages/sdk/src/run.ts', "import { inspectOnnx } from '../../../src/registry/packaging/onnx-inspect.js';", /imports only node builtins/],
  ['the SDK importing the server package', 'packages/sdk/src/client.ts', "import { createServer } from 'kiln-mlops';", /imports only node builtins/],
  ['the SDK importing a server dependency', 'packages/sdk/src/client.ts', "import Database from 'better-sqlite3';", /imports only node builtins/],
  ["the SDK's contract importing the client", 'packages/sdk/src/contract/tags.ts', "import { KilnClient } from '../client.js';", /contract imports only contract files/],
  ['the platform importing the SDK client', 'src/platform/errors.ts', "import { Kiln } from '@kiln-mlops/sdk';", /platform\/ imports no capability/],
];

const allowed: [string, string, string][] = [
  ["a capability using another's public types", 'src/registry/store.ts', "import type { RunInfo } from '../tracking/types.js';"],
  ["a capability using another's API schemas", 'src/lineage/routes.ts', "import { ModelVersion } from '../registry/schemas.js';"],
  ["a capability typing another's service", 'src/lineage/service.ts', "import type { TrackingService } from '../tracking/service.js';"],
  ['the platform importing itself', 'src/platform/events/log.ts', "import type { MetadataStore } from '../db/types.js';"],
  ['a capability importing the platform', 'src/data/service.ts', "import { invalid } from '../platform/errors.js';"],
  ['the SDK using its contract', 'packages/sdk/src/registry.ts', "import type { ModelVersion } from './contract/registry-schemas.js';"],
  ['the SDK using TypeBox and node builtins', 'packages/sdk/src/contract/tags.ts', "import { Type } from '@sinclair/typebox';\nimport { readFile } from 'node:fs/promises';"],
  ['the platform using the contract it shares with the SDK', 'src/platform/pagination.ts', "import type { Page } from '@kiln-mlops/sdk/contract/page';"],
  ['the CLI using the SDK client', 'src/cli/client.ts', "import { KilnClient } from '@kiln-mlops/sdk/client';"],
];

describe('import boundaries (eslint.config.js)', () => {
  for (const [what, file, code, message] of refused) {
    it(`refuses ${what}`, async () => {
      const errors = await boundaryErrors(file, code);
      assert.equal(errors.length, 1, `${file}: ${code} → ${JSON.stringify(errors)}`);
      assert.match(errors[0]!, message);
    });
  }
  for (const [what, file, code] of allowed) {
    it(`allows ${what}`, async () => {
      assert.deepEqual(await boundaryErrors(file, code), [], `${file}: ${code}`);
    });
  }
});
