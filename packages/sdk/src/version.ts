import { readFileSync } from 'node:fs';

/** The SDK's version, from its package.json (one folder above both src/ and dist/). */
function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { name?: string; version?: string };
    if (pkg.name === '@kiln-mlops/sdk' && pkg.version) return pkg.version;
  } catch {
    // not installed as a package
  }
  return '0.0.0';
}

export const VERSION = readVersion();
