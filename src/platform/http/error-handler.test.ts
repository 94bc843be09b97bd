import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toKilnError } from './error-handler.js';

const withCode = (code: string) => Object.assign(new Error('driver error'), { code });

describe('toKilnError', () => {
  it('answers transient database errors with 503 (retry later), not 500', () => {
    for (const code of ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED', '57014', '40001', '40P01', 'ECONNREFUSED']) {
      const ke = toKilnError(withCode(code));
      assert.equal(ke.code, 'TEMPORARILY_UNAVAILABLE', code);
      assert.equal(ke.status, 503, code);
    }
    assert.match(toKilnError(withCode('57014')).message, /statement timeout/);
  });

  it('keeps other database errors internal', () => {
    assert.equal(toKilnError(withCode('SQLITE_ERROR')).status, 500);
    assert.equal(toKilnError(withCode('42P01')).status, 500);
  });
});
