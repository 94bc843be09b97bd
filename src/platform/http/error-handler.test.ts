import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { KilnError } from '../errors.js';
import { installErrorHandler, toKilnError } from './error-handler.js';

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

describe('installErrorHandler', () => {
  it('sets Retry-After on a 503 from details.retry_after_seconds, else to 1 s', async () => {
    const app = Fastify();
    installErrorHandler(app);
    app.get('/full', async () => {
      throw new KilnError('TEMPORARILY_UNAVAILABLE', 'the queue is full', { retry_after_seconds: 2.5 });
    });
    app.get('/busy', async () => {
      throw new KilnError('TEMPORARILY_UNAVAILABLE', 'busy');
    });
    try {
      const full = await app.inject({ url: '/full' });
      assert.equal(full.statusCode, 503);
      assert.equal(full.headers['retry-after'], '3');
      assert.equal(full.json().error_code, 'TEMPORARILY_UNAVAILABLE');
      const busy = await app.inject({ url: '/busy' });
      assert.equal(busy.headers['retry-after'], '1');
    } finally {
      await app.close();
    }
  });
});
