import { Type, type Static } from '@sinclair/typebox';

/** Native API shapes for users, API tokens and the caller's identity; each schema's static type has its name. */

export const SCOPE_NAMES = ['read', 'write', 'admin', 'infer'] as const;
export const ScopeName = Type.Union([Type.Literal('read'), Type.Literal('write'), Type.Literal('admin'), Type.Literal('infer')]);
export type ScopeName = Static<typeof ScopeName>;

const Nullable = <T extends ReturnType<typeof Type.String | typeof Type.Integer>>(t: T) => Type.Union([t, Type.Null()]);

export const User = Type.Object(
  {
    name: Type.String(),
    kind: Type.Union([Type.Literal('user'), Type.Literal('service')]),
    display_name: Nullable(Type.String()),
    email: Nullable(Type.String()),
    admin: Type.Boolean(),
    disabled: Type.Boolean(),
    has_password: Type.Boolean(),
    creation_time: Type.Integer(),
    last_update_time: Type.Integer(),
    last_login_time: Nullable(Type.Integer()),
  },
  { $id: 'User' },
);
export type User = Static<typeof User>;

export const CreateUserBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128, description: 'Letters, digits and . _ @ + -, starting with a letter or digit.' }),
    password: Type.Optional(Type.String({ description: 'At least 8 characters; none: no password sign-in (tokens only).' })),
    admin: Type.Optional(Type.Boolean()),
    kind: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('service')])),
    display_name: Type.Optional(Type.String()),
    email: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type CreateUserBody = Static<typeof CreateUserBody>;

export const UpdateUserBody = Type.Object(
  {
    admin: Type.Optional(Type.Boolean()),
    disabled: Type.Optional(Type.Boolean()),
    display_name: Type.Optional(Nullable(Type.String())),
    email: Type.Optional(Nullable(Type.String())),
  },
  { additionalProperties: false },
);
export type UpdateUserBody = Static<typeof UpdateUserBody>;

export const SetPasswordBody = Type.Object(
  {
    password: Type.String(),
    current_password: Type.Optional(Type.String({ description: 'Required when changing your own password; admins setting another user’s omit it.' })),
  },
  { additionalProperties: false },
);
export type SetPasswordBody = Static<typeof SetPasswordBody>;

export const TokenInfo = Type.Object(
  {
    id: Type.String({ description: 'The public part of the token (kiln_<id>_…).' }),
    name: Type.String(),
    user: Type.String(),
    scopes: Type.Array(ScopeName),
    creation_time: Type.Integer(),
    expiry_time: Nullable(Type.Integer()),
    last_used_time: Nullable(Type.Integer({ description: 'Recorded at most once a minute.' })),
    revoked_time: Nullable(Type.Integer()),
  },
  { $id: 'TokenInfo' },
);
export type TokenInfo = Static<typeof TokenInfo>;

export const CreateTokenBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    scopes: Type.Optional(Type.Array(ScopeName, { minItems: 1, maxItems: 4, description: 'Default read and write.' })),
    expires_in_days: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 3650 })),
    user: Type.Optional(Type.String({ description: 'Whose token (admins: another user or a service account); default the caller.' })),
  },
  { additionalProperties: false },
);
export type CreateTokenBody = Static<typeof CreateTokenBody>;

export const CreatedToken = Type.Object({
  token: Type.String({ description: 'The whole token: shown this once, stored only as a hash.' }),
  token_info: TokenInfo,
});
export type CreatedToken = Static<typeof CreatedToken>;

export const WhoAmI = Type.Object(
  {
    name: Type.String(),
    kind: Type.Union([Type.Literal('user'), Type.Literal('service'), Type.Literal('anonymous'), Type.Literal('system')]),
    admin: Type.Boolean(),
    method: Type.String({ description: 'How the request authenticated: none, password, token, session, oidc, jwt.' }),
    scopes: Type.Union([Type.Array(ScopeName), Type.Literal('all')]),
    token_id: Type.Optional(Type.String()),
    groups: Type.Optional(Type.Array(Type.String(), { description: 'The groups the identity provider gave (single sign-on and provider JWTs).' })),
    auth: Type.Union([Type.Literal('on'), Type.Literal('none')]),
  },
  { $id: 'WhoAmI' },
);
export type WhoAmI = Static<typeof WhoAmI>;

export const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 128 }),
    password: Type.String({ maxLength: 4096 }),
  },
  { additionalProperties: false },
);
export type LoginBody = Static<typeof LoginBody>;

export const AuthSession = Type.Object(
  {
    user: Type.String({ description: 'The signed-in user (with --auth none: the name the request gave, for the record only).' }),
    admin: Type.Boolean(),
    method: Type.String({ description: 'How this request authenticated: session for the web UI’s cookie after a password, oidc after single sign-on; password, token, jwt; none with --auth none.' }),
    csrf_token: Nullable(Type.String({ description: 'Send it in X-Kiln-CSRF with every write signed in by the session cookie; null without a session.' })),
    auth: Type.Union([Type.Literal('on'), Type.Literal('none')]),
    sso: Type.Boolean({ description: 'Whether single sign-on is configured (the login page shows its button).' }),
    expiry_time: Nullable(Type.Integer({ description: 'When the session ends however active it is (ms since the epoch).' })),
    idle_expiry_time: Nullable(Type.Integer({ description: 'When it ends if unused from now on.' })),
  },
  { $id: 'AuthSession' },
);
export type AuthSession = Static<typeof AuthSession>;
