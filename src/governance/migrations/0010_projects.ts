import type { Kysely } from 'kysely';
import type { KilnMigration } from '../../platform/db/migrate.js';
import type { StoreAdapter } from '../../platform/db/adapter.js';
import { autoIncrementPrimaryKey } from '../../platform/db/migration-helpers.js';

/**
 * Projects, their members (users and groups, with a role each), local groups, and resource-level grants (MLflow's
 * experiment and registered-model permissions). The `default` project (id 0) holds everything that existed before
 * projects did; every signed-in user is its editor until an admin says otherwise. Shipped: never edit.
 */
const migration: KilnMigration = {
  name: '0010_projects',
  // Typed against an open schema on purpose: a migration describes history, not today's types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async up(db: Kysely<any>, adapter: StoreAdapter) {
    await db.schema
      .createTable('gov_projects')
      .addColumn('project_id', adapter.autoIdType, autoIncrementPrimaryKey(adapter))
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('description', 'text')
      // The role every signed-in identity has in the project (null: members only).
      .addColumn('everyone_role', 'text')
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('creation_time', 'bigint', (c) => c.notNull())
      .addColumn('last_update_time', 'bigint', (c) => c.notNull())
      .execute();
    const now = Date.now();
    await db
      .insertInto('gov_projects')
      .values({ project_id: 0, name: 'default', description: 'Everything created before projects existed, and what names no project.', everyone_role: 'editor', created_by: 'system', creation_time: now, last_update_time: now })
      .execute();
    await db.schema
      .createTable('gov_members')
      .addColumn('project_id', 'bigint', (c) => c.notNull().references('gov_projects.project_id').onDelete('cascade'))
      // `user`: member is the user's user_pk (as text); `group`: a group's name (local or from the SSO provider).
      .addColumn('member_kind', 'text', (c) => c.notNull())
      .addColumn('member', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('creation_time', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('gov_members_pk', ['project_id', 'member_kind', 'member'])
      .execute();
    await db.schema.createIndex('gov_members_member').on('gov_members').columns(['member_kind', 'member']).execute();
    await db.schema
      .createTable('gov_group_members')
      .addColumn('group_name', 'text', (c) => c.notNull())
      .addColumn('user_pk', 'bigint', (c) => c.notNull().references('gov_users.user_pk').onDelete('cascade'))
      .addPrimaryKeyConstraint('gov_group_members_pk', ['group_name', 'user_pk'])
      .execute();
    await db.schema.createIndex('gov_group_members_user').on('gov_group_members').column('user_pk').execute();
    await db.schema
      .createTable('gov_grants')
      // `experiment` (resource_id: the experiment id) or `registered_model` (resource_id: the model's name).
      .addColumn('resource_kind', 'text', (c) => c.notNull())
      .addColumn('resource_id', 'text', (c) => c.notNull())
      .addColumn('user_pk', 'bigint', (c) => c.notNull().references('gov_users.user_pk').onDelete('cascade'))
      // MLflow's level: READ, EDIT, MANAGE or NO_PERMISSIONS.
      .addColumn('permission', 'text', (c) => c.notNull())
      .addColumn('creation_time', 'bigint', (c) => c.notNull())
      .addColumn('last_update_time', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('gov_grants_pk', ['resource_kind', 'resource_id', 'user_pk'])
      .execute();
    await db.schema.createIndex('gov_grants_user').on('gov_grants').column('user_pk').execute();
  },
};

export default migration;
