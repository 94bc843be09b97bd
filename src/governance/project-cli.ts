/** `kiln projects …` and `kiln groups …`, through the API. */
import type { Command } from 'commander';
import { clientFrom, clientOptions, type ClientFlags } from '../cli/client.js';
import { formatTime, printJson, printTable } from '../cli/output.js';
import type { Group, Member, Project } from '@kiln-mlops/sdk/contract/project-schemas';

const ROLES = ['viewer', 'editor', 'maintainer', 'owner'];
const enc = encodeURIComponent;

function usage(cmd: Command, message: string): never {
  cmd.error(`error: ${message}`, { exitCode: 2, code: 'kiln.usage' });
}

function roleOf(cmd: Command, role: string | undefined, optional = false): string | null | undefined {
  if (role === undefined) return optional ? undefined : usage(cmd, `--role is required: ${ROLES.join(', ')}`);
  if (optional && role === 'none') return null;
  if (!ROLES.includes(role)) usage(cmd, `--role must be one of ${ROLES.join(', ')}${optional ? ', none' : ''}; got '${role}'`);
  return role;
}

/** `user:NAME` or `group:NAME` (a bare name is a user). */
function memberOf(cmd: Command, spec: string): { kind: 'user' | 'group'; name: string } {
  const m = /^(user|group):(.+)$/.exec(spec);
  if (m) return { kind: m[1] as 'user' | 'group', name: m[2]! };
  if (spec.includes(':')) usage(cmd, `a member is NAME, user:NAME or group:NAME; got '${spec}'`);
  return { kind: 'user', name: spec };
}

const projectRow = (p: Project) => [p.name, p.role ?? '', p.everyone_role ?? '', p.description ?? '', p.created_by, formatTime(p.creation_time)];

export function registerProjectCommands(program: Command): void {
  const projects = program.command('projects').description('Projects: what they hold is readable and changeable by their members, by role');
  clientOptions(projects.command('list').description('The projects you may read, with your role in each')).action(async (flags: ClientFlags) => {
    const r = await clientFrom(flags).http.json<{ projects: Project[] }>('GET', '/api/v1/projects');
    if (flags.json) return printJson(r.projects);
    printTable(['NAME', 'YOUR ROLE', 'EVERYONE', 'DESCRIPTION', 'CREATED BY', 'CREATED'], r.projects.map(projectRow));
  });
  clientOptions(projects.command('create').description('Create a project; you become its owner').argument('<name>', "lower-case letters, digits, '.', '_' and '-'"))
    .option('--description <text>', 'what it is for')
    .option('--everyone <role>', 'a role every signed-in user has in it (default: members only)')
    .action(async (name: string, flags: ClientFlags & { description?: string; everyone?: string }, cmd: Command) => {
      const everyone = roleOf(cmd, flags.everyone, true);
      const r = await clientFrom(flags).http.json<{ project: Project }>('POST', '/api/v1/projects', { name, description: flags.description, everyone_role: everyone ?? undefined });
      if (flags.json) return printJson(r.project);
      process.stdout.write(`Created project '${r.project.name}'\n`);
    });
  clientOptions(projects.command('show').description('A project and its members').argument('<name>', 'the project')).action(async (name: string, flags: ClientFlags) => {
    const client = clientFrom(flags);
    const [p, m] = await Promise.all([client.http.json<{ project: Project }>('GET', `/api/v1/projects/${enc(name)}`), client.http.json<{ members: Member[] }>('GET', `/api/v1/projects/${enc(name)}/members`)]);
    if (flags.json) return printJson({ ...p.project, members: m.members });
    printTable(['NAME', 'YOUR ROLE', 'EVERYONE', 'DESCRIPTION', 'CREATED BY', 'CREATED'], [projectRow(p.project)]);
    process.stdout.write('\n');
    printTable(['MEMBER', 'KIND', 'ROLE', 'SINCE'], m.members.map((x) => [x.name, x.kind, x.role, formatTime(x.creation_time)]));
  });
  clientOptions(projects.command('update').description("Change a project's description or everyone's role (owners)").argument('<name>', 'the project'))
    .option('--description <text>', 'what it is for')
    .option('--everyone <role>', "every signed-in user's role, or none")
    .action(async (name: string, flags: ClientFlags & { description?: string; everyone?: string }, cmd: Command) => {
      const everyone = roleOf(cmd, flags.everyone, true);
      const r = await clientFrom(flags).http.json<{ project: Project }>('PATCH', `/api/v1/projects/${enc(name)}`, { description: flags.description, everyone_role: everyone });
      if (flags.json) return printJson(r.project);
      process.stdout.write(`Updated project '${r.project.name}'\n`);
    });
  clientOptions(projects.command('delete').description('Delete an empty project (owners)').argument('<name>', 'the project')).action(async (name: string, flags: ClientFlags) => {
    await clientFrom(flags).http.json('DELETE', `/api/v1/projects/${enc(name)}`);
    process.stdout.write(`Deleted project '${name}'\n`);
  });
  clientOptions(projects.command('add-member').description('Give a user or a group a role in a project (owners); changes the role of a member').argument('<project>', 'the project').argument('<member>', 'NAME, user:NAME or group:NAME'))
    .option('--role <role>', ROLES.join(', '))
    .action(async (project: string, spec: string, flags: ClientFlags & { role?: string }, cmd: Command) => {
      const member = memberOf(cmd, spec);
      const role = roleOf(cmd, flags.role);
      const r = await clientFrom(flags).http.json<{ member: Member }>('PUT', `/api/v1/projects/${enc(project)}/members/${member.kind}/${enc(member.name)}`, { role });
      if (flags.json) return printJson(r.member);
      process.stdout.write(`${member.kind === 'group' ? 'Group' : 'User'} '${member.name}' is ${r.member.role} of '${project}'\n`);
    });
  clientOptions(projects.command('remove-member').description('Remove a member from a project (owners)').argument('<project>', 'the project').argument('<member>', 'NAME, user:NAME or group:NAME')).action(
    async (project: string, spec: string, flags: ClientFlags, cmd: Command) => {
      const member = memberOf(cmd, spec);
      await clientFrom(flags).http.json('DELETE', `/api/v1/projects/${enc(project)}/members/${member.kind}/${enc(member.name)}`);
      process.stdout.write(`Removed ${member.kind} '${member.name}' from '${project}'\n`);
    },
  );

  const groups = program.command('groups').description('Local groups of users (admins); groups are project members like users');
  clientOptions(groups.command('list').description('Local groups and their members')).action(async (flags: ClientFlags) => {
    const r = await clientFrom(flags).http.json<{ groups: Group[] }>('GET', '/api/v1/groups');
    if (flags.json) return printJson(r.groups);
    printTable(['GROUP', 'MEMBERS'], r.groups.map((g) => [g.name, g.members.join(', ')]));
  });
  clientOptions(groups.command('add-member').description('Add a user to a group').argument('<group>', 'the group').argument('<user>', 'the user')).action(async (group: string, user: string, flags: ClientFlags) => {
    await clientFrom(flags).http.json('PUT', `/api/v1/groups/${enc(group)}/members/${enc(user)}`);
    process.stdout.write(`Added '${user}' to group '${group}'\n`);
  });
  clientOptions(groups.command('remove-member').description('Remove a user from a group').argument('<group>', 'the group').argument('<user>', 'the user')).action(async (group: string, user: string, flags: ClientFlags) => {
    await clientFrom(flags).http.json('DELETE', `/api/v1/groups/${enc(group)}/members/${enc(user)}`);
    process.stdout.write(`Removed '${user}' from group '${group}'\n`);
  });
}
