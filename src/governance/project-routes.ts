import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { KilnError } from '../platform/errors.js';
import { from, rule } from '../platform/auth/rules.js';
import { ALL_ACCESS } from '../platform/auth/access.js';
import type { ResourceDirectory } from '../platform/auth/resources.js';
import { ErrorBody } from '../platform/http/schemas.js';
import * as S from '@kiln-mlops/sdk/contract/project-schemas';
import type { Member, Project, ProjectsService } from './projects.js';
import type { Role } from '../platform/auth/rules.js';

export interface ProjectRouteDeps {
  readonly projects: ProjectsService;
  readonly resources: ResourceDirectory;
}

const err = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody };
const tags = ['projects'];

export const projectJson = (p: Project & { role?: Role }): S.Project => ({
  name: p.name,
  description: p.description,
  everyone_role: p.everyoneRole,
  created_by: p.createdBy,
  creation_time: p.creationTime,
  last_update_time: p.lastUpdateTime,
  ...(p.role ? { role: p.role } : {}),
});
const memberJson = (m: Member): S.Member => ({ kind: m.kind, name: m.name, role: m.role, creation_time: m.creationTime });

/** Projects, their members, and local groups under /api/v1. */
export const projectRoutes: FastifyPluginAsync<ProjectRouteDeps> = async (root, deps) => {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const p = deps.projects;
  const access = (req: FastifyRequest) => req.access ?? ALL_ACCESS;
  const project = from.params('name');

  app.get('/projects', { config: { permission: rule.listed }, schema: { tags, summary: 'The projects the caller may read, with its role in each', response: { 200: Type.Object({ projects: Type.Array(S.Project) }), ...err } } }, async (req) => {
    const a = access(req);
    return { projects: (await p.list(a)).map((x) => projectJson({ ...x, role: a.all ? 'owner' : a.projects.get(x.id) })) };
  });
  app.post('/projects', { config: { permission: { access: 'authenticated', scope: 'write' } }, schema: { tags, summary: 'Create a project; its creator is its owner', body: S.CreateProjectBody, response: { 201: Type.Object({ project: S.Project }), 409: ErrorBody, ...err } } }, async (req, reply) => {
    if (!req.principal) throw new KilnError('UNAUTHENTICATED', 'Authentication required.');
    const made = await p.create({ name: req.body.name, description: req.body.description, everyoneRole: req.body.everyone_role }, req.principal);
    return reply.status(201).send({ project: projectJson({ ...made, role: 'owner' }) });
  });
  app.get('/projects/:name', { config: { permission: rule.read('project', project) }, schema: { tags, summary: 'Get a project, with the caller’s role in it', params: S.ProjectNameParams, response: { 200: Type.Object({ project: S.Project }), ...err } } }, async (req) => ({
    project: projectJson(await p.get(req.params.name, access(req))),
  }));
  app.patch('/projects/:name', { config: { permission: rule.own('project', project) }, schema: { tags, summary: 'Change a project’s description or the role everyone has in it', params: S.ProjectNameParams, body: S.UpdateProjectBody, response: { 200: Type.Object({ project: S.Project }), ...err } } }, async (req) => ({
    project: projectJson(await p.update(req.params.name, { description: req.body.description, everyoneRole: req.body.everyone_role })),
  }));
  app.delete('/projects/:name', { config: { permission: rule.own('project', project) }, schema: { tags, summary: 'Delete an empty project', params: S.ProjectNameParams, response: { 204: Type.Null(), 409: ErrorBody, ...err } } }, async (req, reply) => {
    await p.delete(req.params.name, async (id) => !(await deps.resources.inUse(id)));
    return reply.status(204).send(null);
  });
  app.get('/projects/:name/members', { config: { permission: rule.read('project', project) }, schema: { tags, summary: 'The members of a project and their roles', params: S.ProjectNameParams, response: { 200: Type.Object({ members: Type.Array(S.Member) }), ...err } } }, async (req) => ({
    members: (await p.members(req.params.name)).map(memberJson),
  }));
  app.put('/projects/:name/members/:kind/:member', { config: { permission: rule.own('project', project) }, schema: { tags, summary: 'Give a user or a group a role in a project', params: S.MemberParams, body: S.SetMemberBody, response: { 200: Type.Object({ member: S.Member }), ...err } } }, async (req) => ({
    member: memberJson(await p.setMember(req.params.name, { kind: req.params.kind, name: req.params.member }, req.body.role)),
  }));
  app.delete('/projects/:name/members/:kind/:member', { config: { permission: rule.own('project', project) }, schema: { tags, summary: 'Remove a member from a project', params: S.MemberParams, response: { 204: Type.Null(), ...err } } }, async (req, reply) => {
    await p.removeMember(req.params.name, { kind: req.params.kind, name: req.params.member });
    return reply.status(204).send(null);
  });

  app.get('/groups', { config: { permission: rule.admin }, schema: { tags: ['groups'], summary: 'Local groups and their members', response: { 200: Type.Object({ groups: Type.Array(S.Group) }), ...err } } }, async () => ({ groups: await p.groups() }));
  app.put('/groups/:group/members/:user', { config: { permission: rule.admin }, schema: { tags: ['groups'], summary: 'Add a user to a local group', params: S.GroupMemberParams, response: { 204: Type.Null(), ...err } } }, async (req, reply) => {
    await p.addToGroup(req.params.group, req.params.user);
    return reply.status(204).send(null);
  });
  app.delete('/groups/:group/members/:user', { config: { permission: rule.admin }, schema: { tags: ['groups'], summary: 'Remove a user from a local group', params: S.GroupMemberParams, response: { 204: Type.Null(), ...err } } }, async (req, reply) => {
    await p.removeFromGroup(req.params.group, req.params.user);
    return reply.status(204).send(null);
  });
};
