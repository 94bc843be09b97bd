import { Type, type Static } from '@sinclair/typebox';

/** Native API shapes for projects, their members and local groups; each schema's static type has its name. */

export const RoleName = Type.Union([Type.Literal('viewer'), Type.Literal('editor'), Type.Literal('maintainer'), Type.Literal('owner')]);
export type RoleName = Static<typeof RoleName>;

export const Project = Type.Object(
  {
    name: Type.String(),
    description: Type.Union([Type.String(), Type.Null()]),
    everyone_role: Type.Union([RoleName, Type.Null()], { description: 'The role every signed-in identity has here; null: members only.' }),
    created_by: Type.String(),
    creation_time: Type.Number(),
    last_update_time: Type.Number(),
    role: Type.Optional(RoleName),
  },
  { $id: 'Project' },
);
export type Project = Static<typeof Project>;

export const ProjectNameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });
export type ProjectNameParams = Static<typeof ProjectNameParams>;

export const CreateProjectBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64, description: "Lower-case letters, digits, '.', '_' and '-'." }),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 5000 }), Type.Null()])),
    everyone_role: Type.Optional(Type.Union([RoleName, Type.Null()])),
  },
  { additionalProperties: false },
);
export type CreateProjectBody = Static<typeof CreateProjectBody>;

export const UpdateProjectBody = Type.Object(
  { description: Type.Optional(Type.Union([Type.String({ maxLength: 5000 }), Type.Null()])), everyone_role: Type.Optional(Type.Union([RoleName, Type.Null()])) },
  { additionalProperties: false },
);
export type UpdateProjectBody = Static<typeof UpdateProjectBody>;

export const Member = Type.Object({ kind: Type.Union([Type.Literal('user'), Type.Literal('group')]), name: Type.String(), role: RoleName, creation_time: Type.Number() }, { $id: 'ProjectMember' });
export type Member = Static<typeof Member>;

export const MemberParams = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64 }),
  kind: Type.Union([Type.Literal('user'), Type.Literal('group')]),
  member: Type.String({ minLength: 1, maxLength: 256 }),
});
export type MemberParams = Static<typeof MemberParams>;

export const SetMemberBody = Type.Object({ role: RoleName }, { additionalProperties: false });
export type SetMemberBody = Static<typeof SetMemberBody>;

export const Group = Type.Object({ name: Type.String(), members: Type.Array(Type.String()) }, { $id: 'Group' });
export type Group = Static<typeof Group>;

export const GroupMemberParams = Type.Object({ group: Type.String({ minLength: 1, maxLength: 256 }), user: Type.String({ minLength: 1, maxLength: 128 }) });
export type GroupMemberParams = Static<typeof GroupMemberParams>;
