import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Password hashing with scrypt (memory-hard; in Node's crypto, so no native dependency), stored as a PHC string:
 * `$scrypt$ln=17,r=8,p=1$<salt b64>$<hash b64>`. The parameters travel with each hash, so raising them later keeps
 * old hashes verifiable (and `needsRehash` says when to re-hash one at the next successful login).
 */
export interface ScryptParams {
  /** log2 of N, the CPU/memory cost. */
  readonly ln: number;
  readonly r: number;
  readonly p: number;
}

/** OWASP Password Storage Cheat Sheet: N = 2^17 (128 MiB), r = 8, p = 1. */
export const OWASP_SCRYPT: ScryptParams = { ln: 17, r: 8, p: 1 };

const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** Passwords longer than this are refused: hashing cost must not be the caller's to choose. */
export const MAX_PASSWORD_BYTES = 1024;
export const MIN_PASSWORD_LENGTH = 8;

function derive(password: string, salt: Buffer, params: ScryptParams, keyBytes: number): Promise<Buffer> {
  const opts: ScryptOptions = { N: 2 ** params.ln, r: params.r, p: params.p, maxmem: 2 * 128 * 2 ** params.ln * params.r + 1024 * 1024 };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, keyBytes, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string, params: ScryptParams = OWASP_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params, KEY_BYTES);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9_-]{16,})\$([A-Za-z0-9_-]{32,})$/;

function parse(stored: string): { params: ScryptParams; salt: Buffer; key: Buffer } | undefined {
  const m = PHC.exec(stored);
  if (!m) return undefined;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  // Bounds: a stored hash must not make verification run for minutes or exhaust memory.
  if (params.ln < 1 || params.ln > 22 || params.r < 1 || params.r > 32 || params.p < 1 || params.p > 16) return undefined;
  return { params, salt: Buffer.from(m[4]!, 'base64url'), key: Buffer.from(m[5]!, 'base64url') };
}

/** True when `password` gives `stored`; false for a wrong password or a stored value that is not a hash of ours. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const p = parse(stored);
  if (!p || Buffer.byteLength(password) > MAX_PASSWORD_BYTES) return false;
  const key = await derive(password, p.salt, p.params, p.key.length);
  return timingSafeEqual(key, p.key);
}

/** True when `stored` was made with weaker parameters than `params`. */
export function needsRehash(stored: string, params: ScryptParams = OWASP_SCRYPT): boolean {
  const p = parse(stored);
  return !p || p.params.ln < params.ln || p.params.r < params.r || p.params.p < params.p;
}

/** Why a new password is refused, or undefined when it is acceptable (NIST SP 800-63B: length, not composition). */
export function passwordProblem(password: unknown): string | undefined {
  if (typeof password !== 'string') return 'The password must be a string.';
  if ([...password].length < MIN_PASSWORD_LENGTH) return `The password must have at least ${MIN_PASSWORD_LENGTH} characters.`;
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) return `The password must be at most ${MAX_PASSWORD_BYTES} bytes long.`;
  return undefined;
}
