import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderApiDocs, renderCliDocs, renderPermissionsDocs } from '../../scripts/gen-docs.js';
import { SETTINGS } from '../../src/platform/config.js';

describe('docs', () => {
  it('docs/api.md matches the OpenAPI document (run `npm run docs` after changing routes)', async () => {
    assert.equal(readFileSync(join(process.cwd(), 'docs', 'api.md'), 'utf8'), await renderApiDocs());
  });
  it('docs/permissions.md lists every route with its rule (run `npm run docs` after adding or changing routes)', async () => {
    assert.equal(readFileSync(join(process.cwd(), 'docs', 'permissions.md'), 'utf8'), await renderPermissionsDocs());
  });
  it('docs/cli.md matches the CLI help (run `npm run docs` after changing commands)', async () => {
    assert.equal(readFileSync(join(process.cwd(), 'docs', 'cli.md'), 'utf8'), await renderCliDocs());
  });
  it('docs/configuration.md names every setting and its variable', () => {
    const text = readFileSync(join(process.cwd(), 'docs', 'configuration.md'), 'utf8');
    for (const s of SETTINGS) {
      assert.ok(text.includes(`\`${s.env}\``), s.env);
      if (s.flag) assert.ok(text.includes(`\`${s.flag}\``), s.flag);
    }
  });
});
