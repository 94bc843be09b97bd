import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { backoffDelay, signatureOf, verifySignature } from './signing.js';

describe('webhook signing', () => {
  it('is sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">', () => {
    const body = JSON.stringify({ id: 'evt_1', kind: 'version_created' });
    const expected = createHmac('sha256', 's3cret').update(`1700000000.${body}`).digest('hex');
    assert.equal(signatureOf('s3cret', 1700000000, body), `sha256=${expected}`);
    assert.match(signatureOf('s3cret', '1700000000', body), /^sha256=[0-9a-f]{64}$/);
  });

  it('verifies only the exact secret, timestamp and body', () => {
    const sig = signatureOf('k', 10, '{"a":1}');
    assert.equal(verifySignature('k', 10, '{"a":1}', sig), true);
    assert.equal(verifySignature('k', 11, '{"a":1}', sig), false);
    assert.equal(verifySignature('k', 10, '{"a":2}', sig), false);
    assert.equal(verifySignature('other', 10, '{"a":1}', sig), false);
    assert.equal(verifySignature('k', 10, '{"a":1}', undefined), false);
    assert.equal(verifySignature('k', 10, '{"a":1}', 'sha256=00'), false);
  });
});

describe('webhook backoff', () => {
  const opts = { baseDelayMs: 1000, maxDelayMs: 60_000, jitter: 0.2 };

  it('doubles from the base without jitter', () => {
    const mid = () => 0.5; // no spread
    assert.deepEqual([1, 2, 3, 4, 5].map((a) => backoffDelay(a, opts, mid)), [1000, 2000, 4000, 8000, 16000]);
  });

  it('stays within ±jitter and under the cap', () => {
    for (let a = 1; a <= 10; a++) {
      const low = backoffDelay(a, opts, () => 0);
      const high = backoffDelay(a, opts, () => 0.999999);
      const exp = Math.min(60_000, 1000 * 2 ** (a - 1));
      assert.ok(low >= Math.round(exp * 0.8) - 1 && low <= exp, `attempt ${a}: ${low}`);
      assert.ok(high <= 60_000 && high >= exp - 1, `attempt ${a}: ${high}`);
    }
    assert.equal(backoffDelay(40, opts, () => 0.5), 60_000);
  });
});
