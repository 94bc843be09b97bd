import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DestinationPolicy, internalAddressKind } from './destination.js';
import { responseExcerpt } from './dispatcher.js';

const fixed = (addresses: string[]) => async () => addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('webhook destinations', () => {
  it('classifies internal addresses, in every notation', () => {
    for (const a of ['127.0.0.1', '127.255.0.1', '10.0.0.1', '172.16.0.1', '172.31.255.255', '192.168.0.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fd12:3456::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:7f00:1', '::ffff:a9fe:a9fe', '64:ff9b::a00:1', '::127.0.0.1']) {
      assert.ok(internalAddressKind(a), a);
    }
    for (const a of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) {
      assert.equal(internalAddressKind(a), undefined, a);
    }
  });

  it('allows internal destinations the allow-list names: a host, an address or a CIDR range', async () => {
    const p = new DestinationPolicy(['hooks.internal', '10.20.0.0/16', '::1', '[fd00::/8]'], fixed(['10.99.0.1']));
    assert.equal(p.refusal('10.20.3.4'), undefined);
    assert.equal(p.refusal('::ffff:10.20.3.4'), undefined);
    assert.equal(p.refusal('::1'), undefined);
    assert.equal(p.refusal('fd00::5'), undefined);
    assert.ok(p.refusal('10.21.0.1'));
    assert.ok(p.refusal('127.0.0.1'));
    assert.deepEqual(await p.resolve('hooks.internal'), [{ address: '10.99.0.1', family: 4 }], 'a named host is trusted whatever it resolves to');
    await assert.rejects(p.resolve('other.example'), /other\.example resolves to 10\.99\.0\.1/);
    assert.throws(() => new DestinationPolicy(['10.0.0.0/40']), /Invalid entry '10\.0\.0\.0\/40'/);
    assert.throws(() => new DestinationPolicy(['http://x/']), /Invalid entry/);
  });

  it('refuses a name when any of its addresses is internal, and accepts a name that does not resolve yet', async () => {
    await assert.rejects(new DestinationPolicy([], fixed(['93.184.216.34', '127.0.0.1'])).resolve('mixed.example'), /may not reach/);
    const unresolvable = new DestinationPolicy([], async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    });
    await unresolvable.checkUrl('https://not-yet.example/hook');
    await assert.rejects(new DestinationPolicy([]).checkUrl('http://2130706433/'), /127\.0\.0\.1, a loopback/);
  });

  it('keeps a short, printable excerpt of a response body', () => {
    assert.equal(responseExcerpt('ok'), 'ok');
    assert.equal(responseExcerpt('\u001b[2J\r\nline\u0000two\u202e\u200b  three\n'), '[2J line two three');
    const long = responseExcerpt('é'.repeat(1000));
    assert.equal([...long].length, 200);
    assert.ok(long.endsWith('…'));
  });
});
