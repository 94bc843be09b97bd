/** `kiln login/logout/whoami`, `kiln tokens …`, `kiln users …` (through the API) and `kiln admin …` (on the store directly). */
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { clientFrom, clientOptions, serverTarget, type ClientFlags } from '../cli/client.js';
import { formatTime, printJson, printTable } from '../cli/output.js';
import type { CreatedToken, TokenInfo, User, WhoAmI } from '@kiln-mlops/sdk/contract/governance-schemas';

function usage(cmd: Command, message: string): never {
  cmd.error(`error: ${message}`, { exitCode: 2, code: 'kiln.usage' });
}

/** Reads a password: all of stdin with --password-stdin, else a prompt on the terminal that does not echo. */
async function readPassword(fromStdin: boolean | undefined, prompt = 'Password: '): Promise<string> {
  if (fromStdin || !process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  }
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const done = (err?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (buf: Buffer) => {
      for (const ch of buf.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new Error('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = [...value].slice(0, -1).join('');
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

const userRow = (u: User) => [u.name, u.kind, u.admin ? 'yes' : '', u.disabled ? 'disabled' : '', u.display_name ?? '', formatTime(u.last_login_time)];
const tokenRow = (t: TokenInfo) => [t.name, t.id, t.scopes.join(','), formatTime(t.creation_time), t.expiry_time === null ? 'never' : formatTime(t.expiry_time), formatTime(t.last_used_time), t.revoked_time === null ? '' : `revoked ${formatTime(t.revoked_time)}`];
const TOKEN_HEADERS = ['NAME', 'ID', 'SCOPES', 'CREATED', 'EXPIRES', 'LAST USED', 'STATE'];

export function registerGovernanceCommands(program: Command): void {
  // ------------------------------------------------------------------ login
  clientOptions(program.command('login').description('Sign in to a server with --auth on: stores an API token for it in your config folder (0600)'))
    .option('--username <name>', 'user name (default $KILN_USERNAME, then your OS account)')
    .option('--password-stdin', 'read the password from stdin instead of a prompt')
    .option('--expires-in-days <days>', 'how long the stored token lives (default 90)', '90')
    .action(async (flags: ClientFlags & { username?: string; passwordStdin?: boolean; expiresInDays: string }, cmd: Command) => {
      const days = Number(flags.expiresInDays);
      if (!Number.isFinite(days) || days <= 0 || days > 3650) usage(cmd, '--expires-in-days must be a number of days between 0 and 3650');
      const { userInfo } = await import('node:os');
      const username = flags.username ?? process.env.KILN_USERNAME ?? userInfo().username;
      const password = await readPassword(flags.passwordStdin);
      const { KilnClient } = await import('@kiln-mlops/sdk/client');
      const { storeToken } = await import('@kiln-mlops/sdk/credentials');
      const url = clientFrom(flags).trackingUri;
      const client = new KilnClient({ trackingUri: url, username, password, maxAttempts: 2 });
      const me = await client.http.json<WhoAmI>('GET', '/api/v1/auth/whoami');
      const scopes = me.admin ? ['read', 'write', 'admin'] : ['read', 'write'];
      const name = `kiln login ${hostname()} ${new Date().toISOString().slice(0, 19)}Z`;
      const made = await client.http.json<CreatedToken>('POST', '/api/v1/tokens', { name, scopes, expires_in_days: days });
      const path = storeToken(url, { token: made.token, user: me.name, tokenId: made.token_info.id });
      if (flags.json) return printJson({ user: me.name, server: url, token_info: made.token_info, stored_in: path });
      process.stdout.write(`Signed in to ${url} as ${me.name}${me.admin ? ' (admin)' : ''}; token ${made.token_info.id} stored in ${path}\n`);
    });

  clientOptions(program.command('logout').description('Revoke and forget the token `kiln login` stored for a server')).action(async (flags: ClientFlags) => {
    const { storeToken, storedToken } = await import('@kiln-mlops/sdk/credentials');
    const client = clientFrom(flags);
    const stored = storedToken(client.trackingUri);
    if (!stored) {
      process.stdout.write(`No stored token for ${client.trackingUri}\n`);
      return;
    }
    try {
      if (stored.tokenId) await client.http.json('DELETE', `/api/v1/tokens/${encodeURIComponent(stored.tokenId)}`);
    } finally {
      storeToken(client.trackingUri, undefined);
    }
    process.stdout.write(`Signed out of ${client.trackingUri}\n`);
  });

  clientOptions(program.command('whoami').description('Who the server takes you for, and how you authenticated')).action(async (flags: ClientFlags) => {
    const me = await clientFrom(flags).http.json<WhoAmI>('GET', '/api/v1/auth/whoami');
    if (flags.json) return printJson(me);
    const scopes = me.scopes === 'all' ? 'all' : me.scopes.join(',');
    process.stdout.write(`${me.name}${me.admin ? ' (admin)' : ''} on ${serverTarget()}: ${me.method === 'none' ? 'the server runs without authentication' : `authenticated by ${me.method}, scopes ${scopes}`}\n`);
  });

  // ------------------------------------------------------------------ tokens
  const tokens = program.command('tokens').description('API tokens: create (shown once), list, revoke');
  clientOptions(tokens.command('create').description('Create an API token; the token is printed alone on the last line').argument('<name>', 'a name to tell it by'))
    .option('--scope <scope...>', 'read, write, admin, infer (default read write)')
    .option('--expires-in-days <days>', 'days until it expires (default never)')
    .option('--user <name>', "admins: create it for another user or a service account")
    .action(async (name: string, flags: ClientFlags & { scope?: string[]; expiresInDays?: string; user?: string }, cmd: Command) => {
      let days: number | undefined;
      if (flags.expiresInDays !== undefined) {
        days = Number(flags.expiresInDays);
        if (!Number.isFinite(days) || days <= 0 || days > 3650) usage(cmd, '--expires-in-days must be a number of days between 0 and 3650');
      }
      const scopes = flags.scope?.flatMap((s) => s.split(',')).filter(Boolean);
      const made = await clientFrom(flags).http.json<CreatedToken>('POST', '/api/v1/tokens', { name, scopes, expires_in_days: days, user: flags.user });
      if (flags.json) return printJson(made);
      const t = made.token_info;
      process.stdout.write(`Created token '${t.name}' (${t.id}) for ${t.user}, scopes ${t.scopes.join(',')}, expires ${t.expiry_time === null ? 'never' : formatTime(t.expiry_time)}.\n`);
      process.stdout.write('Copy it now: it is not shown again.\n');
      process.stdout.write(`${made.token}\n`);
    });
  clientOptions(tokens.command('list').description('List your tokens (admins: --user)'))
    .option('--user <name>', "admins: another user's tokens")
    .option('--all', 'include revoked tokens')
    .action(async (flags: ClientFlags & { user?: string; all?: boolean }) => {
      const r = await clientFrom(flags).http.json<{ tokens: TokenInfo[] }>('GET', '/api/v1/tokens', undefined, { user: flags.user });
      const list = flags.all ? r.tokens : r.tokens.filter((t) => t.revoked_time === null);
      if (flags.json) return printJson(list);
      printTable(TOKEN_HEADERS, list.map(tokenRow));
    });
  clientOptions(tokens.command('revoke').description('Revoke a token by name or id (takes effect on every replica within seconds)').argument('<token>', 'its name or id'))
    .option('--user <name>', "admins: another user's token")
    .action(async (token: string, flags: ClientFlags & { user?: string }) => {
      const r = await clientFrom(flags).http.json<{ token_info: TokenInfo }>('DELETE', `/api/v1/tokens/${encodeURIComponent(token)}`, undefined, { user: flags.user });
      if (flags.json) return printJson(r.token_info);
      process.stdout.write(`Revoked token '${r.token_info.name}' (${r.token_info.id}) of ${r.token_info.user}\n`);
    });

  // ------------------------------------------------------------------ users (admins, through the API)
  const users = program.command('users').description('Users and service accounts (admins)');
  clientOptions(users.command('list').description('List users and service accounts')).action(async (flags: ClientFlags) => {
    const r = await clientFrom(flags).http.json<{ users: User[] }>('GET', '/api/v1/users');
    if (flags.json) return printJson(r.users);
    printTable(['NAME', 'KIND', 'ADMIN', 'STATE', 'DISPLAY NAME', 'LAST LOGIN'], r.users.map(userRow));
  });
  clientOptions(users.command('create').description('Create a user (asks for a password) or, with --service, a service account').argument('<name>'))
    .option('--admin', 'a server admin')
    .option('--service', 'a service account: no password, tokens only (kiln tokens create NAME --user <it>)')
    .option('--password-stdin', 'read the password from stdin instead of a prompt')
    .option('--display-name <text>')
    .option('--email <address>')
    .action(async (name: string, flags: ClientFlags & { admin?: boolean; service?: boolean; passwordStdin?: boolean; displayName?: string; email?: string }) => {
      const password = flags.service ? undefined : await readPassword(flags.passwordStdin, `Password for ${name}: `);
      const r = await clientFrom(flags).http.json<{ user: User }>('POST', '/api/v1/users', {
        name,
        password,
        admin: flags.admin,
        kind: flags.service ? 'service' : 'user',
        display_name: flags.displayName,
        email: flags.email,
      });
      if (flags.json) return printJson(r.user);
      process.stdout.write(`Created ${r.user.kind === 'service' ? 'service account' : 'user'} ${r.user.name}${r.user.admin ? ' (admin)' : ''}\n`);
    });
  const patch = (cmdName: string, description: string, body: Record<string, boolean>) =>
    clientOptions(users.command(cmdName).description(description).argument('<name>')).action(async (name: string, flags: ClientFlags) => {
      const r = await clientFrom(flags).http.json<{ user: User }>('PATCH', `/api/v1/users/${encodeURIComponent(name)}`, body);
      if (flags.json) return printJson(r.user);
      printTable(['NAME', 'KIND', 'ADMIN', 'STATE', 'DISPLAY NAME', 'LAST LOGIN'], [userRow(r.user)]);
    });
  patch('grant-admin', 'Make a user a server admin', { admin: true });
  patch('revoke-admin', 'Take server admin away from a user (not the last one)', { admin: false });
  patch('disable', 'Disable a user: no sign-in, their tokens stop working', { disabled: true });
  patch('enable', 'Enable a disabled user', { disabled: false });
  clientOptions(users.command('set-password').description("Set a user's password (your own: asks for the current one)").argument('<name>'))
    .option('--password-stdin', 'read the new password from stdin (and, for your own, the current one on the line before)')
    .action(async (name: string, flags: ClientFlags & { passwordStdin?: boolean }) => {
      const client = clientFrom(flags);
      const me = await client.http.json<WhoAmI>('GET', '/api/v1/auth/whoami');
      let current: string | undefined;
      let password: string;
      if (flags.passwordStdin || !process.stdin.isTTY) {
        const lines = (await readPassword(true)).split(/\r?\n/);
        if (me.name === name) [current, password] = [lines[0] ?? '', lines[1] ?? ''];
        else password = lines[0] ?? '';
      } else {
        if (me.name === name) current = await readPassword(false, 'Current password: ');
        password = await readPassword(false, `New password for ${name}: `);
      }
      await client.http.json('PUT', `/api/v1/users/${encodeURIComponent(name)}/password`, { password, current_password: current });
      process.stdout.write(`Password of ${name} changed\n`);
    });
  clientOptions(users.command('delete').description('Delete a user and their tokens').argument('<name>')).action(async (name: string, flags: ClientFlags) => {
    await clientFrom(flags).http.json('DELETE', `/api/v1/users/${encodeURIComponent(name)}`);
    process.stdout.write(`Deleted ${name}\n`);
  });

  // ------------------------------------------------------------------ admin (the store directly: the first admin, recovery)
  const admin = program.command('admin').description('Administration on the metadata store directly (the first admin, a lost password)');
  admin
    .command('create-user')
    .description('Create a user in the store (the first admin of a server with --auth on); asks for the password')
    .argument('<name>')
    .option('--admin', 'a server admin')
    .option('--password-stdin', 'read the password from stdin instead of a prompt')
    .option('--store <uri>', 'metadata store URI [env KILN_STORE_URI] (default ./.kiln/kiln.db)')
    .action(async (name: string, flags: { admin?: boolean; passwordStdin?: boolean; store?: string }) => {
      const password = await readPassword(flags.passwordStdin, `Password for ${name}: `);
      await withService(flags.store, async (g) => {
        const u = await g.createUser({ name, password, admin: flags.admin });
        process.stdout.write(`Created user ${u.name}${u.admin ? ' (admin)' : ''}\n`);
      });
    });
  admin
    .command('set-password')
    .description("Set a user's password in the store (recovery), and enable the user")
    .argument('<name>')
    .option('--password-stdin', 'read the password from stdin instead of a prompt')
    .option('--store <uri>', 'metadata store URI [env KILN_STORE_URI] (default ./.kiln/kiln.db)')
    .action(async (name: string, flags: { passwordStdin?: boolean; store?: string }) => {
      const password = await readPassword(flags.passwordStdin, `New password for ${name}: `);
      await withService(flags.store, async (g) => {
        await g.setPassword(name, password);
        await g.updateUser(name, { disabled: false });
        process.stdout.write(`Password of ${name} set\n`);
      });
    });
}

/**
 * The governance service on the store itself (migrated first), for `kiln admin`. What it changes is audited as the
 * system, named `kiln admin (<OS user>@<host>)`, from the source `cli`.
 */
async function withService(storeFlag: string | undefined, fn: (g: import('./service.js').GovernanceService) => Promise<void>): Promise<void> {
  const [{ loadConfig }, { openStore, migrateToLatest }, { MIGRATIONS }, { GovernanceStore }, { GovernanceService }, { AuditLog }, { runInContext }, { SYSTEM }, { userInfo }, { randomUUID }] = await Promise.all([
    import('../platform/config.js'),
    import('../platform/db/index.js'),
    import('../migrations.js'),
    import('./store.js'),
    import('./service.js'),
    import('../platform/audit/log.js'),
    import('../platform/auth/context.js'),
    import('../platform/auth/principal.js'),
    import('node:os'),
    import('node:crypto'),
  ]);
  const config = loadConfig({ storeUri: storeFlag });
  const store = await openStore(config.storeUri);
  try {
    await migrateToLatest(store, MIGRATIONS);
    const service = new GovernanceService(new GovernanceStore(store.db.withTables(), store.adapter, new AuditLog(store)));
    let osUser: string;
    try {
      osUser = userInfo().username;
    } catch {
      osUser = process.env.USER ?? 'unknown';
    }
    const principal = { ...SYSTEM, name: `kiln admin (${osUser}@${hostname()})` };
    await runInContext({ principal, requestId: `cli-${randomUUID()}`, source: 'cli' }, () => fn(service));
  } finally {
    await store.close();
  }
}
