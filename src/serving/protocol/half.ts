/**
 * IEEE 754 half precision (binary16), as FP16 tensors carry it: onnxruntime takes and gives the raw bits in a
 * Uint16Array, while JSON speaks in numbers. Rounding is to nearest, ties to even, directly from the float64 value
 * (going through float32 first would round twice).
 */

/** The largest finite half: 65504. Values from 65520 up round to infinity. */
export const HALF_MAX = 65504;

const TWO_POW_24 = 2 ** 24;

/** Rounds a non-negative number to an integer, ties to even. */
function roundEven(x: number): number {
  const f = Math.floor(x);
  const r = x - f;
  if (r > 0.5 || (r === 0.5 && f % 2 === 1)) return f + 1;
  return f;
}

/** The half-precision bits nearest to v (NaN gives the quiet NaN 0x7e00; too large gives ±infinity). */
export function floatToHalf(v: number): number {
  if (Number.isNaN(v)) return 0x7e00;
  const sign = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) {
    // Subnormal (or zero): a multiple of 2^-24. Scaling by a power of two is exact in float64.
    // A result of 0x400 is the smallest normal, which is the right encoding as well.
    return sign | roundEven(a * TWO_POW_24);
  }
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  // a / 2^(e-10) lies in [1024, 2048); the 10 bits below the leading one are the mantissa.
  let m = roundEven(a / 2 ** (e - 10));
  if (m === 2048) {
    m = 1024;
    e++;
  }
  if (e > 15) return sign | 0x7c00;
  return sign | ((e + 15) << 10) | (m - 1024);
}

/** The number a half-precision bit pattern stands for. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}
