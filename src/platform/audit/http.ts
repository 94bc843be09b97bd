import type { FastifyInstance } from 'fastify';
import type { AuditLog } from './log.js';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Records in the audit log, each in a transaction of its own, the requests refused (`http.request_denied`, any 403)
 * and the changes that failed (`http.request_failed`, a 5xx answer to a request that is not a read): neither changed
 * anything, so no change's transaction holds their entry. Refused credentials (401) are the authenticator's to record
 * (`auth.login_failed`); a request without any is not recorded.
 */
export function installRequestAudit(app: FastifyInstance, audit: AuditLog, onError: (e: unknown, what: string) => void): void {
  // Before the answer leaves: a client told no is on record by the time it hears it.
  app.addHook('onSend', async (req, reply, payload) => {
    const status = reply.statusCode;
    const outcome = status === 403 ? 'denied' : status >= 500 && !READS.has(req.method) ? 'failed' : undefined;
    if (outcome === undefined) return payload;
    const p = req.principal;
    const path = req.url.split('?')[0]!;
    try {
      await audit.recordAlone(
        {
          action: outcome === 'denied' ? 'http.request_denied' : 'http.request_failed',
          outcome,
          resourceType: 'route',
          resourceId: `${req.method} ${req.routeOptions.url ?? path.slice(0, 256)}`,
          details: { status, path: path.length > 512 ? path.slice(0, 512) + '…' : path },
        },
        { actor: p?.name ?? 'anonymous', actorKind: p?.kind ?? 'anonymous', authMethod: p?.method ?? 'none', source: req.ip, requestId: String(req.id) },
      );
    } catch (e) {
      onError(e, `recording ${outcome === 'denied' ? 'a refused' : 'a failed'} request in the audit log`);
    }
    return payload;
  });
}
