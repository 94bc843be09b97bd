import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { floatToHalf, halfToFloat } from './half.js';

describe('half precision', () => {
  it('encodes known values', () => {
    assert.equal(floatToHalf(1), 0x3c00);
    assert.equal(floatToHalf(-2), 0xc000);
    assert.equal(floatToHalf(0.5), 0x3800);
    assert.equal(floatToHalf(65504), 0x7bff);
    assert.equal(floatToHalf(0), 0x0000);
    assert.equal(floatToHalf(-0), 0x8000);
    assert.equal(floatToHalf(2 ** -14), 0x0400); // smallest normal
    assert.equal(floatToHalf(2 ** -24), 0x0001); // smallest subnormal
    assert.equal(floatToHalf(1023 * 2 ** -24), 0x03ff); // largest subnormal
    assert.equal(floatToHalf(1 / 3), 0x3555);
    assert.equal(floatToHalf(Infinity), 0x7c00);
    assert.equal(floatToHalf(-Infinity), 0xfc00);
    assert.equal(floatToHalf(NaN), 0x7e00);
  });

  it('rounds to nearest, ties to even', () => {
    assert.equal(floatToHalf(1e-8), 0); // below half the smallest subnormal
    assert.equal(floatToHalf(2 ** -25), 0); // a tie between 0 and 2^-24: to even (0)
    assert.equal(floatToHalf(2 ** -25 + 2 ** -40), 0x0001);
    assert.equal(floatToHalf(3 * 2 ** -25), 0x0002); // 1.5 ulp: a tie, to even (2)
    assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00); // tie between 1 and 1+2^-10: to even
    assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02); // tie between 1+2^-10 and 1+2^-9: to even
    assert.equal(floatToHalf(1 + 2 ** -11 + 2 ** -30), 0x3c01);
    assert.equal(floatToHalf(2047.5), 0x6800); // 2048 after rounding the mantissa up into the next exponent
    assert.equal(floatToHalf(65519), 0x7bff);
    assert.equal(floatToHalf(65520), 0x7c00); // the tie at the top goes to infinity
    assert.equal(floatToHalf(0.1), 0x2e66);
    assert.equal(floatToHalf(2 ** -14 - 2 ** -25), 0x0400); // rounds up from the subnormals into the smallest normal
  });

  it('decodes, and every finite half survives a round trip', () => {
    assert.equal(halfToFloat(0x3c00), 1);
    assert.equal(halfToFloat(0x7bff), 65504);
    assert.equal(halfToFloat(0x0001), 2 ** -24);
    assert.equal(halfToFloat(0xc000), -2);
    assert.ok(Object.is(halfToFloat(0x8000), -0));
    assert.equal(halfToFloat(0x7c00), Infinity);
    assert.equal(halfToFloat(0xfc00), -Infinity);
    assert.ok(Number.isNaN(halfToFloat(0x7e01)));
    for (let h = 0; h < 0x10000; h++) {
      const f = halfToFloat(h);
      if (Number.isNaN(f)) continue;
      assert.equal(floatToHalf(f), h, `0x${h.toString(16)}`);
    }
  });
});
