import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { KilnError } from './errors.js';

const PREFIX = 'kiln:v1:';

/**
 * Secrets the server must use again in clear (webhook signing secrets), kept encrypted at rest with the server key:
 * AES-256-GCM, a random 96-bit nonce per value, stored as `kiln:v1:<nonce>:<tag>:<ciphertext>` (base64url). A value
 * without the prefix is one stored before encryption existed: `open` returns it as it is, `isSealed` says so.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /** The key of a key file: 32 random bytes, base64; written (0600) when it does not exist yet. */
  static fromKeyFile(path: string): SecretBox {
    let text: string | undefined;
    try {
      text = readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (text === undefined) {
      mkdirSync(dirname(path), { recursive: true });
      text = randomBytes(32).toString('base64') + '\n';
      // 'wx': a replica that wrote the file first wins; the others read its key.
      try {
        writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        text = readFileSync(path, 'utf8');
      }
      chmodSync(path, 0o600);
    }
    const key = Buffer.from(text.trim(), 'base64');
    if (key.length !== 32) throw new KilnError('INVALID_PARAMETER_VALUE', `The server key in ${path} must be 32 bytes, base64-encoded (e.g. \`openssl rand -base64 32\`); it holds ${key.length}.`);
    return new SecretBox(key);
  }

  /** A box with a given key (tests). */
  static withKey(key: Buffer): SecretBox {
    if (key.length !== 32) throw new Error('a server key is 32 bytes');
    return new SecretBox(key);
  }

  seal(plain: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce);
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return `${PREFIX}${nonce.toString('base64url')}:${cipher.getAuthTag().toString('base64url')}:${ct.toString('base64url')}`;
  }

  open(stored: string): string {
    if (!SecretBox.isSealed(stored)) return stored;
    const [nonce, tag, ct] = stored.slice(PREFIX.length).split(':');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce ?? '', 'base64url'));
      decipher.setAuthTag(Buffer.from(tag ?? '', 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ct ?? '', 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new KilnError('INTERNAL_ERROR', 'A stored secret does not open with this server key: the key file is not the one it was sealed with (every replica needs the same KILN_SECRET_KEY_FILE).');
    }
  }

  static isSealed(stored: string): boolean {
    return stored.startsWith(PREFIX);
  }
}

/** A box whose key file is read (or created) on first use: a server that stores no secret needs no key file. */
export function lazySecretBox(path: string): Pick<SecretBox, 'seal' | 'open'> {
  let box: SecretBox | undefined;
  const get = () => (box ??= SecretBox.fromKeyFile(path));
  return { seal: (plain) => get().seal(plain), open: (stored) => (SecretBox.isSealed(stored) ? get().open(stored) : stored) };
}

export type Secrets = ReturnType<typeof lazySecretBox>;
