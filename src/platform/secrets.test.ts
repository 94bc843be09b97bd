import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SecretBox } from './secrets.js';

describe('SecretBox', () => {
  it('seals with a fresh nonce each time and opens what it sealed; legacy plain values pass through', () => {
    const box = SecretBox.withKey(randomBytes(32));
    const a = box.seal('whsec_123');
    const b = box.seal('whsec_123');
    assert.notEqual(a, b);
    assert.ok(!a.includes('whsec_123'));
    assert.equal(box.open(a), 'whsec_123');
    assert.equal(box.open('plain-old'), 'plain-old');
    assert.equal(SecretBox.isSealed(a), true);
  });

  it('refuses a value sealed with another key or altered', () => {
    const sealed = SecretBox.withKey(randomBytes(32)).seal('s');
    assert.throws(() => SecretBox.withKey(randomBytes(32)).open(sealed), /does not open with this server key/);
    const box = SecretBox.withKey(randomBytes(32));
    const v = box.seal('secret value');
    const flipped = v.slice(0, -2) + (v.endsWith('A') ? 'B' : 'A') + v.slice(-1);
    assert.throws(() => box.open(flipped), /does not open/);
  });

  it('creates the key file once, 0600, and every box from it opens the others’ values', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kiln-secret-'));
    const path = join(dir, 'nested', 'secret.key');
    const one = SecretBox.fromKeyFile(path);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    const key = readFileSync(path, 'utf8');
    const two = SecretBox.fromKeyFile(path);
    assert.equal(readFileSync(path, 'utf8'), key);
    assert.equal(two.open(one.seal('x')), 'x');
  });
});
