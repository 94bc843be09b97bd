import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import { rule } from '../auth/rules.js';

/** The built web UI (web/dist), found from this module whether it runs from src (tests) or dist. */
export function findWebRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'web', 'dist');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

const API = /^\/(api|ajax-api|health|version|metrics)(\/|$|\?)/;

/**
 * Serves the web UI at /: its hashed assets with long-lived caching, and index.html for any other GET that
 * asks for HTML (the UI's own routes, e.g. /runs/<id>), so links into the UI work from anywhere.
 * Returns a not-found hook for the app's 404 handler.
 */
export async function serveWebUi(app: FastifyInstance, root: string): Promise<(req: FastifyRequest, reply: FastifyReply) => boolean> {
  const files = {
    root,
    setHeaders: (res: { header(name: string, value: string): unknown }, path: string) => {
      res.header('cache-control', /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache');
      res.header('x-content-type-options', 'nosniff');
    },
  };
  // reply.sendFile for the not-found hook below (on the root instance, which answers the UI's own routes); it serves
  // no file itself, so it adds no route.
  await app.register(fastifyStatic, { ...files, serve: false });
  // The UI's files are public (its API calls are not): one route per file, each given the public rule here.
  await app.register(async (scope) => {
    scope.addHook('onRoute', (opts) => {
      opts.config = { ...opts.config, permission: rule.public };
    });
    await scope.register(fastifyStatic, { ...files, prefix: '/', wildcard: false, index: false, decorateReply: false });
  });
  // Assets are served by explicit routes (wildcard: false registers one route per file at start).
  return (req, reply) => {
    if (req.method !== 'GET' || API.test(req.url)) return false;
    const accept = req.headers.accept ?? '';
    if (!accept.includes('text/html')) return false;
    void reply.header('cache-control', 'no-cache').sendFile('index.html');
    return true;
  };
}
