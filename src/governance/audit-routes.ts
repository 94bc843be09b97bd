import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { rule } from '../platform/auth/rules.js';
import { ErrorBody } from '../platform/http/schemas.js';
import { decodePageTokenAs, encodePageToken } from '../platform/pagination.js';
import type { AuditLog } from '../platform/audit/log.js';
import type { HashedAuditEntry } from '../platform/audit/chain.js';
import * as S from '@kiln-mlops/sdk/contract/audit-schemas';

export interface AuditRouteDeps {
  readonly audit: AuditLog;
}

const err = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody };

/** An entry as the API shows it: `details` parsed (the stored text is what the hash covers; `kiln audit verify` reads that). */
export function auditEntryJson(e: HashedAuditEntry): S.AuditEntry {
  let details: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(e.details);
    details = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { value: parsed };
  } catch {
    details = { unparsable: e.details };
  }
  return { ...e, details };
}

/** The audit log under /api/v1, for server admins: its entries (filtered, newest first) and its head. */
export const auditRoutes: FastifyPluginAsync<AuditRouteDeps> = async (root, deps) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['audit'];

  app.get(
    '/audit',
    {
      config: { permission: rule.admin },
      schema: { tags, summary: 'Audit log entries, newest first (filters; keyset pages by seq)', querystring: S.AuditQuery, response: { 200: S.AuditPage, ...err } },
    },
    async (req) => {
      const q = req.query;
      const after = decodePageTokenAs(q.page_token, { seq: 'nonNegative' })?.seq;
      const page = await deps.audit.list(
        { actor: q.actor, action: q.action, resourceType: q.resource_type, resourceId: q.resource_id, projectId: q.project_id, outcome: q.outcome, since: q.since, until: q.until },
        { limit: q.max_results ?? 100, order: q.order ?? 'desc', after },
      );
      return { entries: page.entries.map(auditEntryJson), ...(page.next !== undefined ? { next_page_token: encodePageToken({ seq: page.next }) } : {}) };
    },
  );

  app.get(
    '/audit/head',
    {
      config: { permission: rule.admin },
      schema: { tags, summary: 'The head of the audit log: the last entry’s seq and hash (keep it: `kiln audit verify --expect-head SEQ:HASH`)', response: { 200: S.AuditHead, ...err } },
    },
    async () => deps.audit.head(),
  );
};
