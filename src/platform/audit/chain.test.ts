import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ChainVerifier, EMPTY_HEAD, entryHash, linkEntries, writtenAs, type HashedAuditEntry } from './chain.js';

function chain(n: number): HashedAuditEntry[] {
  const raw = Array.from({ length: n }, (_, i) => ({
    time: 1_700_000_000_000 + i,
    actor: i % 3 === 0 ? 'ana' : 'bo',
    actor_kind: 'user',
    auth_method: 'token',
    source: '127.0.0.1',
    request_id: `req-${i}`,
    action: 'registry.set_alias',
    resource_type: 'model',
    resource_id: `m${i}`,
    project_id: i % 2,
    outcome: 'ok',
    details: JSON.stringify({ alias: 'prod', version: i, note: 'ünïcødé "q"' }),
  }));
  return linkEntries(EMPTY_HEAD, raw).entries;
}

function verify(entries: readonly HashedAuditEntry[], storedHead?: { seq: number; hash: string }, expect: { seq: number; hash: string }[] = []) {
  const v = new ChainVerifier(expect);
  // In pages, as the store reads them.
  for (let i = 0; i < entries.length; i += 7) if (!v.push(entries.slice(i, i + 7))) break;
  return v.finish(storedHead);
}

describe('the audit hash chain', () => {
  it('verifies an intact chain, an empty one, and one linked in several appends', () => {
    const c = chain(50);
    const r = verify(c, { seq: 50, hash: c[49]!.hash });
    assert.equal(r.ok, true);
    assert.equal(r.entries, 50);
    assert.deepEqual(r.head, { seq: 50, hash: c[49]!.hash });
    assert.equal(verify([], EMPTY_HEAD).ok, true);
    const first = linkEntries(EMPTY_HEAD, chain(3).map(({ seq: _s, prev_hash: _p, hash: _h, ...e }) => e));
    const second = linkEntries(first.head, chain(2).map(({ seq: _s, prev_hash: _p, hash: _h, ...e }) => e));
    assert.equal(second.entries[0]!.seq, 4);
    assert.equal(verify([...first.entries, ...second.entries], second.head).ok, true);
  });

  it('names a modified entry, whichever field changed', () => {
    for (const field of ['actor', 'time', 'outcome', 'details', 'project_id', 'source'] as const) {
      const c = chain(20);
      const e = c[11]!;
      c[11] = { ...e, [field]: field === 'time' || field === 'project_id' ? 99 : 'x' };
      const r = verify(c);
      assert.equal(r.ok, false);
      assert.deepEqual([r.firstBad?.seq, r.firstBad?.problem], [12, 'modified'], field);
    }
  });

  it('names the first deleted entry, in the middle, at the start and (against the stored head) at the end', () => {
    const c = chain(20);
    assert.deepEqual(verify([...c.slice(0, 4), ...c.slice(7)]).firstBad?.seq, 5);
    assert.equal(verify([...c.slice(0, 4), ...c.slice(7)]).firstBad?.problem, 'missing');
    assert.deepEqual(verify(c.slice(2)).firstBad?.seq, 1);
    const truncated = verify(c.slice(0, 17), { seq: 20, hash: c[19]!.hash });
    assert.deepEqual([truncated.firstBad?.seq, truncated.firstBad?.problem], [18, 'truncated']);
  });

  it('names entries deleted and the ones after renumbered, and entries added after the stored head', () => {
    const c = chain(20);
    const renumbered = [...c.slice(0, 6), ...c.slice(8)].map((e, i) => ({ ...e, seq: i + 1 }));
    const r = verify(renumbered);
    assert.deepEqual([r.firstBad?.seq, r.firstBad?.problem], [7, 'missing'], r.firstBad?.message);
    assert.match(r.firstBad!.message, /entries 7–8 were deleted/);
    const added = verify(c, { seq: 18, hash: c[17]!.hash });
    assert.deepEqual([added.firstBad?.seq, added.firstBad?.problem], [19, 'inserted']);
    const rewrittenLast = verify(c, { seq: 20, hash: 'f'.repeat(64) });
    assert.deepEqual([rewrittenLast.firstBad?.seq, rewrittenLast.firstBad?.problem], [20, 'head-mismatch']);
  });

  it('finds an entry inserted in the middle (the ones after renumbered) and an entry moved', () => {
    const c = chain(20);
    const forged = { ...c[5]!, actor: 'mallory' };
    const shifted = [...c.slice(0, 6), forged, ...c.slice(6)].map((e, i) => ({ ...e, seq: i + 1 }));
    const r = verify(shifted);
    assert.equal(r.ok, false);
    assert.ok(r.firstBad!.seq <= 7, JSON.stringify(r.firstBad));
    // Two entries swap their numbers (the rows' order changes): both fail their hashes.
    const swapped = [...c];
    swapped[8] = { ...c[9]!, seq: 9 };
    swapped[9] = { ...c[8]!, seq: 10 };
    assert.deepEqual([verify(swapped).firstBad?.seq, verify(swapped).firstBad?.problem], [9, 'reordered']);
    // A row moved far down (renumbered to the end): named where it was taken from.
    const moved = [...c.slice(0, 3), ...c.slice(4), { ...c[3]! }].map((e, i) => ({ ...e, seq: i + 1 }));
    assert.deepEqual(verify(moved).firstBad?.seq, 4);
  });

  it('names the first of the entries inserted, linked and renumbered so that they pass on their own', () => {
    const c = chain(20);
    const strip = ({ seq: _s, prev_hash: _p, hash: _h, ...e }: HashedAuditEntry) => e;
    // Two forged entries linked after entry 6, then the originals 7.. renumbered 9.. (their hashes kept).
    const forged = linkEntries({ seq: 6, hash: c[5]!.hash }, [{ ...strip(c[6]!), actor: 'mallory' }, { ...strip(c[6]!), actor: 'mallory' }]).entries;
    const tampered = [...c.slice(0, 6), ...forged, ...c.slice(6).map((e, i) => ({ ...e, seq: 9 + i }))];
    const r = verify(tampered);
    assert.deepEqual([r.firstBad?.seq, r.firstBad?.problem], [7, 'inserted'], r.firstBad?.message);
    assert.equal(writtenAs(tampered[8]!), 7);
    assert.equal(writtenAs({ ...c[3]!, actor: 'x' }), undefined);
  });

  it('finds an entry rewritten with a recomputed hash by the link that follows it', () => {
    const c = chain(20);
    const rewritten = { ...c[9]!, actor: 'mallory' };
    c[9] = { ...rewritten, hash: entryHash(rewritten) };
    const r = verify(c);
    assert.deepEqual([r.firstBad?.seq, r.firstBad?.problem], [10, 'broken-link']);
  });

  it('catches a whole rewritten tail, or a truncation with the head moved back, against a head published earlier', () => {
    const c = chain(30);
    const published = { seq: 20, hash: c[19]!.hash };
    // The attacker rewrites entries 15.. and relinks everything after: the chain is consistent in itself.
    const rewritten = linkEntries(
      { seq: 14, hash: c[13]!.hash },
      c.slice(14).map(({ seq: _s, prev_hash: _p, hash: _h, ...e }) => ({ ...e, actor: 'mallory' })),
    );
    const tampered = [...c.slice(0, 14), ...rewritten.entries];
    assert.equal(verify(tampered, rewritten.head).ok, true, 'a consistent rewrite passes on its own');
    const r = verify(tampered, rewritten.head, [published]);
    assert.deepEqual([r.firstBad?.seq, r.firstBad?.problem], [20, 'head-mismatch']);
    // Truncated to 12 entries with the head row moved back to match.
    const cut = verify(c.slice(0, 12), { seq: 12, hash: c[11]!.hash }, [published]);
    assert.deepEqual([cut.firstBad?.seq, cut.firstBad?.problem], [13, 'truncated']);
  });
});
