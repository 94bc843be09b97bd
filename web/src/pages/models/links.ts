import { enc } from '../../lib/api';

export const modelHref = (name: string) => `/models/${enc(name)}`;
export const versionHref = (name: string, v: number | string) => `/models/${enc(name)}/versions/${enc(String(v))}`;
export const runHref = (runId: string) => `/runs/${enc(runId)}`;
export const datasetVersionHref = (name: string, v: number | string) => `/datasets/${enc(name)}/versions/${enc(String(v))}`;
