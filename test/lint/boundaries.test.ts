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
  ['the SDK importing the profiler', 'src/sdk/data.ts', "import { profileSources } from '../data/profile/index.js';", /sdk\/ imports no server code/],
  ['the SDK importing the ONNX inspector', 'src/sdk/run.ts', "import { inspectOnnx } from '../registry/packaging/onnx-inspect.js';", /sdk\/ imports no server code/],
  ['the SDK importing the platform', 'src/sdk/client.ts', "import { openStore } from '../platform/db/index.js';", /sdk\/ imports no server code/],
];

const allowed: [string, string, string][] = [
  ["a capability using another's public types", 'src/registry/store.ts', "import type { RunInfo } from '../tracking/types.js';"],
  ["a capability using another's API schemas", 'src/lineage/routes.ts', "import { ModelVersion } from '../registry/schemas.js';"],
  ["a capability typing another's service", 'src/lineage/service.ts', "import type { TrackingService } from '../tracking/service.js';"],
  ['the platform importing itself', 'src/platform/events/log.ts', "import type { MetadataStore } from '../db/types.js';"],
  ['a capability importing the platform', 'src/data/service.ts', "import { invalid } from '../platform/errors.js';"],
  ['the SDK using API schemas', 'src/sdk/registry.ts', "import type { ModelVersion } from '../registry/schemas.js';"],
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
