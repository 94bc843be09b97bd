import { randomBytes, randomUUID } from 'node:crypto';

/** 32 lowercase hex characters, like MLflow run ids. */
export function newRunId(): string {
  return randomUUID().replace(/-/g, '');
}

export function newId(): string {
  return randomBytes(16).toString('hex');
}
