import { Type, type Static } from '@sinclair/typebox';

/** Native API shapes of the audit log (`GET /api/v1/audit`, `GET /api/v1/audit/head`); each schema's static type has its name. */

const Nullable = <T extends ReturnType<typeof Type.String | typeof Type.Integer>>(t: T) => Type.Union([t, Type.Null()]);

export const AuditEntry = Type.Object(
  {
    seq: Type.Integer({ description: 'The entry’s number: 1, 2, 3… in commit order, without gaps.' }),
    time: Type.Integer(),
    actor: Type.String({ description: 'Who acted: a user or service account, `anonymous`, or `system` (the server itself, `kiln admin`).' }),
    actor_kind: Type.String({ description: 'user, service, anonymous, system.' }),
    auth_method: Type.String({ description: 'How the actor authenticated: none, password, token, session, oidc, jwt, system.' }),
    source: Nullable(Type.String({ description: 'The client’s address (`cli` for `kiln admin`); null for the server’s own work.' })),
    request_id: Nullable(Type.String()),
    action: Type.String({ description: 'What was done, `<capability>.<verb>`: `auth.token_created`, `registry.alias_set`…' }),
    resource_type: Nullable(Type.String()),
    resource_id: Nullable(Type.String()),
    project_id: Nullable(Type.Integer()),
    outcome: Type.String({ description: 'ok, denied, failed.' }),
    details: Type.Record(Type.String(), Type.Unknown(), { description: 'What changed (a small object, never a secret).' }),
    prev_hash: Type.String({ description: 'The hash of the entry before (64 zeros for the first).' }),
    hash: Type.String({ description: 'SHA-256 of the entry’s canonical content, prev_hash included.' }),
  },
  { $id: 'AuditEntry' },
);
export type AuditEntry = Static<typeof AuditEntry>;

export const AuditQuery = Type.Object(
  {
    actor: Type.Optional(Type.String({ maxLength: 256 })),
    action: Type.Optional(Type.String({ maxLength: 256, description: 'An action, or a prefix ending in `*` (`auth.*`).' })),
    resource_type: Type.Optional(Type.String({ maxLength: 256 })),
    resource_id: Type.Optional(Type.String({ maxLength: 1024 })),
    project_id: Type.Optional(Type.Integer({ minimum: 0 })),
    outcome: Type.Optional(Type.Union([Type.Literal('ok'), Type.Literal('denied'), Type.Literal('failed')])),
    since: Type.Optional(Type.Integer({ minimum: 0, description: 'Entries at or after this time (ms since the epoch).' })),
    until: Type.Optional(Type.Integer({ minimum: 0, description: 'Entries before this time (ms since the epoch).' })),
    order: Type.Optional(Type.Union([Type.Literal('desc'), Type.Literal('asc')], { description: 'desc (default): newest first; asc: oldest first.' })),
    max_results: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Default 100.' })),
    page_token: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
export type AuditQuery = Static<typeof AuditQuery>;

export const AuditPage = Type.Object({
  entries: Type.Array(AuditEntry),
  next_page_token: Type.Optional(Type.String()),
});
export type AuditPage = Static<typeof AuditPage>;

export const AuditHead = Type.Object(
  {
    seq: Type.Integer({ description: 'The last entry’s number (0: the log is empty).' }),
    hash: Type.String({ description: 'The last entry’s hash: with seq, what `kiln audit verify --expect-head SEQ:HASH` takes.' }),
  },
  { $id: 'AuditHead' },
);
export type AuditHead = Static<typeof AuditHead>;
