import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API tokens: `kiln_<id>_<secret>`, where the id (12 base62 characters) names the stored row and the secret
 * (43 base62 characters, ≥ 256 bits) is known only to its holder. Only SHA-256 of the secret is stored: a secret
 * of that entropy needs no slow hash, and a read of the table gives nothing that authenticates.
 */
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ID_CHARS = 12;
const SECRET_CHARS = 43;
const TOKEN = /^kiln_([0-9A-Za-z]{12})_([0-9A-Za-z]{43})$/;

function base62(chars: number): string {
  let out = '';
  while (out.length < chars) {
    for (const b of randomBytes(chars * 2)) {
      // 248 = 4 × 62: rejecting the rest keeps every character equally likely.
      if (b < 248 && out.length < chars) out += ALPHABET[b % 62];
    }
  }
  return out;
}

export interface NewToken {
  /** The whole token, shown once. */
  readonly token: string;
  readonly id: string;
  /** What is stored. */
  readonly secretHash: string;
}

export function newToken(): NewToken {
  const id = base62(ID_CHARS);
  const secret = base62(SECRET_CHARS);
  return { token: `kiln_${id}_${secret}`, id, secretHash: hashSecret(secret) };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** The id and secret of a string shaped like a token, or undefined. */
export function parseToken(token: string): { id: string; secret: string } | undefined {
  const m = TOKEN.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/** Constant-time check of a presented secret against the stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
