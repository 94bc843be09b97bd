import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LoginLimiter } from './login-limiter.js';
import { KilnError } from '../platform/errors.js';

describe('LoginLimiter', () => {
  it('allows the free failures, then doubles the wait per failure, per user and per address', () => {
    let now = 1_000_000;
    const l = new LoginLimiter({ freeFailures: 3, freeFailuresPerAddress: 3, baseDelayMs: 1000, maxDelayMs: 8000 }, () => now);
    for (let i = 0; i < 3; i++) {
      l.check('ana', '10.0.0.1');
      l.failed('ana', '10.0.0.1');
    }
    l.check('ana', '10.0.0.1'); // the third failure used the allowance; no wait yet
    l.failed('ana', '10.0.0.1'); // 4th: 1 s
    assert.throws(() => l.check('ana', '10.0.0.9'), (e: unknown) => e instanceof KilnError && e.code === 'REQUEST_LIMIT_EXCEEDED' && /1 s/.test(e.message), 'the user is slowed from any address');
    assert.throws(() => l.check('bo', '10.0.0.1'), /Too many failed sign-ins/, 'the address is slowed for any user');
    l.check('bo', '10.0.0.2');
    now += 1000;
    l.check('ana', '10.0.0.1');
    l.failed('ana', '10.0.0.1'); // 5th: 2 s
    now += 1500;
    assert.throws(() => l.check('ana', undefined));
    now += 500;
    l.check('ana', undefined);
    for (let i = 0; i < 5; i++) l.failed('ana', undefined);
    assert.throws(() => l.check('ana', undefined), /8 s/, 'capped at maxDelayMs');
    now += 8000;
    l.succeeded('ana', '10.0.0.1');
    l.check('ana', '10.0.0.1');
  });

  it('gives an address more room than a user name, and counts token failures per address only', () => {
    const l = new LoginLimiter({ freeFailures: 2, freeFailuresPerAddress: 4 }, () => 0);
    for (let i = 0; i < 3; i++) l.failed(undefined, '10.0.0.1');
    l.check('ana', '10.0.0.1');
    l.check(undefined, '10.0.0.1');
    l.failed(undefined, '10.0.0.1');
    l.check(undefined, '10.0.0.1'); // the fourth used the address's allowance
    l.failed(undefined, '10.0.0.1');
    assert.throws(() => l.check(undefined, '10.0.0.1'));
    l.check('ana', '10.0.0.2');
  });

  it('forgets failures after a quiet hour and bounds what it remembers', () => {
    let now = 0;
    const l = new LoginLimiter({ freeFailures: 0, freeFailuresPerAddress: 0, baseDelayMs: 1000, forgetAfterMs: 60_000, maxKeys: 4 }, () => now);
    l.failed('ana', undefined);
    assert.throws(() => l.check('ana', undefined));
    now += 60_001;
    l.check('ana', undefined);
    for (let i = 0; i < 10; i++) l.failed(`u${i}`, undefined);
    l.check('u0', undefined); // dropped as the oldest
    assert.throws(() => l.check('u9', undefined));
  });
});
