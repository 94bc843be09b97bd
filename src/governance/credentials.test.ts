import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, needsRehash, passwordProblem, verifyPassword, OWASP_SCRYPT } from './passwords.js';
import { hashSecret, newToken, parseToken, secretMatches } from './tokens.js';

const FAST = { ln: 10, r: 8, p: 1 };

describe('password hashes', () => {
  it('verify the right password only, with a fresh salt each time', async () => {
    const h1 = await hashPassword('correct horse battery', FAST);
    const h2 = await hashPassword('correct horse battery', FAST);
    assert.notEqual(h1, h2);
    assert.match(h1, /^\$scrypt\$ln=10,r=8,p=1\$[\w-]+\$[\w-]+$/);
    assert.equal(await verifyPassword('correct horse battery', h1), true);
    assert.equal(await verifyPassword('correct horse batterY', h1), false);
    assert.equal(await verifyPassword('', h1), false);
  });

  it('treat composed and decomposed unicode as the same password', async () => {
    const h = await hashPassword('caf\u00e9-passw0rd', FAST);
    assert.equal(await verifyPassword('cafe\u0301-passw0rd', h), true);
  });

  it('refuse stored values that are not hashes of ours, or whose parameters would cost minutes', async () => {
    for (const bad of ['', 'plain', '$scrypt$ln=30,r=8,p=1$AAAAAAAAAAAAAAAAAAAAAA$' + 'A'.repeat(43), '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA']) {
      assert.equal(await verifyPassword('whatever', bad), false, bad);
    }
  });

  it('use OWASP parameters by default and say when a hash is weaker', async () => {
    assert.deepEqual(OWASP_SCRYPT, { ln: 17, r: 8, p: 1 });
    const weak = await hashPassword('correct horse battery', FAST);
    assert.equal(needsRehash(weak), true);
    assert.equal(needsRehash(weak, FAST), false);
  });

  it('accept long passphrases and refuse short, huge or non-string ones', () => {
    assert.equal(passwordProblem('eight ch'), undefined);
    assert.match(passwordProblem('seven c')!, /at least 8/);
    assert.match(passwordProblem('🔑'.repeat(7))!, /at least 8/);
    assert.match(passwordProblem('x'.repeat(1025))!, /at most 1024 bytes/);
    assert.match(passwordProblem(12345678)!, /string/);
  });
});

describe('API tokens', () => {
  it('are unique, parse back to their id and secret, and match only their own hash', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const t = newToken();
      assert.match(t.token, /^kiln_[0-9A-Za-z]{12}_[0-9A-Za-z]{43}$/);
      assert.ok(!seen.has(t.id));
      seen.add(t.id);
      const p = parseToken(t.token)!;
      assert.equal(p.id, t.id);
      assert.equal(secretMatches(p.secret, t.secretHash), true);
      assert.equal(hashSecret(p.secret), t.secretHash);
    }
    const t = newToken();
    const other = newToken();
    assert.equal(secretMatches(parseToken(other.token)!.secret, t.secretHash), false);
  });

  it('refuse strings that are not shaped like a token', () => {
    for (const s of ['', 'kiln_', 'kiln_abc_def', 'Bearer kiln_x', `kiln_${'a'.repeat(12)}_${'b'.repeat(42)}`, `kiln_${'a'.repeat(12)}_${'b'.repeat(43)}\n`]) {
      assert.equal(parseToken(s), undefined, JSON.stringify(s));
    }
    assert.equal(secretMatches('x', 'not-hex'), false);
  });
});
