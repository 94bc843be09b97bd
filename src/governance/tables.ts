import type { Generated } from 'kysely';

/** Times are integer milliseconds since the epoch. */

export interface UsersTable {
  user_pk: Generated<number>;
  /** The login name (NFC), unique, as recorded in histories and the audit log. */
  name: string;
  /** `user` (a person, who may have a password) or `service` (a service account: tokens only). */
  kind: string;
  display_name: string | null;
  email: string | null;
  /** The PHC string of the password's scrypt hash; null: no password login. */
  password_hash: string | null;
  /** 1: a server admin. */
  admin: number;
  /** 1: may not sign in; its tokens stop working. */
  disabled: number;
  creation_time: number;
  last_update_time: number;
  last_login_time: number | null;
  /** The OIDC issuer of a user created by single sign-on; null: a local user (SSO never signs in as one). */
  sso_issuer: string | null;
  /** The provider's `sub` of that user: another account of the provider with the same name is refused. */
  sso_subject: string | null;
}

export interface TokensTable {
  /** The 12 characters after `kiln_`: public, names the row. */
  token_id: string;
  user_pk: number;
  name: string;
  /** SHA-256 (hex) of the secret part. */
  secret_hash: string;
  /** Comma-separated scopes: read, write, admin, infer. */
  scopes: string;
  creation_time: number;
  expiry_time: number | null;
  last_used_time: number | null;
  revoked_time: number | null;
}

export interface ProjectsTable {
  project_id: Generated<number>;
  /** Unique; names the project in URLs, the CLI and the `kiln.project` tag. */
  name: string;
  description: string | null;
  /** The role every signed-in identity has here; null: members only. */
  everyone_role: string | null;
  created_by: string;
  creation_time: number;
  last_update_time: number;
}

export interface MembersTable {
  project_id: number;
  /** `user` (member: the user_pk as text) or `group` (member: the group's name). */
  member_kind: string;
  member: string;
  role: string;
  creation_time: number;
}

export interface GroupMembersTable {
  group_name: string;
  user_pk: number;
}

export interface GrantsTable {
  /** `experiment` (resource_id: its id) or `registered_model` (resource_id: its name). */
  resource_kind: string;
  resource_id: string;
  user_pk: number;
  /** READ, EDIT, MANAGE or NO_PERMISSIONS (MLflow's levels). */
  permission: string;
  creation_time: number;
  last_update_time: number;
}

export interface SessionsTable {
  /** SHA-256 (hex) of the session id the browser holds in its cookie; the id itself is never stored. */
  session_hash: string;
  user_pk: number;
  /** What cookie-authenticated writes must send in X-Kiln-CSRF (not a credential on its own). */
  csrf_token: string;
  creation_time: number;
  /** Absolute end: the session stops here however active it is. */
  expiry_time: number;
  /** Written at most once a minute; the idle timeout counts from it. */
  last_seen_time: number;
  /** How it was opened: `session` (the login form's password) or `oidc` (single sign-on). */
  method: string;
  /** The provider's groups at sign-in (a JSON array), for `oidc` sessions; null otherwise. */
  groups: string | null;
}

export interface SsoLoginsTable {
  /** SHA-256 (hex) of the id the browser holds in its sign-in cookie while it is at the provider. */
  login_hash: string;
  state: string;
  nonce: string;
  /** PKCE's code verifier (its S256 challenge went to the provider). */
  code_verifier: string;
  redirect_url: string;
  /** Where the browser goes once signed in (a same-origin path). */
  return_to: string;
  expiry_time: number;
}

/** The governance capability's tables, as its store sees them. */
// A type alias, not an interface: Kysely's withTables<T> needs T's implicit index signature.
export type GovernanceTables = {
  gov_users: UsersTable;
  gov_tokens: TokensTable;
  gov_projects: ProjectsTable;
  gov_members: MembersTable;
  gov_group_members: GroupMembersTable;
  gov_grants: GrantsTable;
  gov_sessions: SessionsTable;
  gov_sso_logins: SsoLoginsTable;
};
