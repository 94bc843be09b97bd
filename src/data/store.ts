/** The data tables: datasets, versions, validations. Only the data capability reads or writes them. */
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { inTransaction } from '../platform/db/transaction.js';
import { readableProjects } from '../platform/auth/access.js';
import type { DataTables, DataDatasetsTable, DataValidationsTable, DataVersionsTable } from './tables.js';
import type { StoreAdapter } from '../platform/db/adapter.js';

/** A dataset with its newest version's number and description (the description a list shows: see DataStore.datasets). */
export type DatasetRow = Selectable<DataDatasetsTable> & { latest_version: number | null; version_count: number; latest_description: string | null };
export type VersionRow = Selectable<DataVersionsTable> & { name: string };
export type ValidationRow = Selectable<DataValidationsTable> & { name: string };
type Db = Kysely<DataTables> | Transaction<DataTables>;

/** Columns of a version without its schema and profile (which can be large). */
const SUMMARY = ['v.dataset_pk', 'v.version', 'v.digest', 'v.mlflow_digest', 'v.format', 'v.rows', 'v.bytes', 'v.files', 'v.manifest', 'v.source', 'v.description', 'v.user_id', 'v.creation_time'] as const;

export class DataStore {
  constructor(
    readonly db: Kysely<DataTables>,
    readonly adapter: StoreAdapter,
  ) {}

  transaction<T>(fn: (trx: Transaction<DataTables>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(fn);
  }

  /**
   * Datasets with their newest version's number and description. A description is given per version (`kiln data
   * add --description`); the dataset row keeps the first one, so what describes the dataset now is the newest's.
   */
  private datasets(db: Db = this.db) {
    return db
      .selectFrom('data_datasets as d')
      .selectAll('d')
      .select((eb) => [
        eb.selectFrom('data_versions as v').whereRef('v.dataset_pk', '=', 'd.dataset_pk').select((e) => e.fn.max('v.version').as('m')).as('latest_version'),
        eb.selectFrom('data_versions as v').whereRef('v.dataset_pk', '=', 'd.dataset_pk').select((e) => e.fn.countAll().as('c')).as('version_count'),
        eb.selectFrom('data_versions as v').whereRef('v.dataset_pk', '=', 'd.dataset_pk').select('v.description').orderBy('v.version', 'desc').limit(1).as('latest_description'),
      ]);
  }

  async datasetRow(name: string, db: Db = this.db): Promise<DatasetRow | undefined> {
    return (await this.datasets(db).where('d.name', '=', name).executeTakeFirst()) as DatasetRow | undefined;
  }

  async searchDatasets(nameLike: string | undefined, offset: number, limit: number): Promise<DatasetRow[]> {
    let q = this.datasets();
    const readable = readableProjects();
    if (readable !== 'all') q = readable.length === 0 ? q.where(sql<boolean>`1 = 0`) : q.where('d.project_id', 'in', [...readable]);
    if (nameLike !== undefined && nameLike !== '') q = q.where(sql<boolean>`lower(d.name) like lower(${nameLike})`);
    return (await q.orderBy('d.name').offset(offset).limit(limit).execute()) as DatasetRow[];
  }

  async projectHoldsDatasets(projectId: number): Promise<boolean> {
    return !!(await this.db.selectFrom('data_datasets').select('dataset_pk').where('project_id', '=', projectId).limit(1).executeTakeFirst());
  }

  async datasetProject(name: string): Promise<number | undefined> {
    const r = await this.db.selectFrom('data_datasets').select('project_id').where('name', '=', name).executeTakeFirst();
    return r ? Number(r.project_id) : undefined;
  }

  /** The dataset's primary key, creating the dataset when it does not exist (safe against a concurrent create). */
  async ensureDataset(trx: Db, name: string, description: string | null, userId: string | null, now: number): Promise<number> {
    await trx
      .insertInto('data_datasets')
      .values({ name, description, user_id: userId, creation_time: now, last_update_time: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const row = await trx.selectFrom('data_datasets').select('dataset_pk').where('name', '=', name).executeTakeFirstOrThrow();
    return Number(row.dataset_pk);
  }

  /** Takes the next version number (the dataset row stays locked until the transaction ends). */
  async takeVersionNumber(trx: Db, datasetPk: number, now: number): Promise<number> {
    const row = await trx
      .updateTable('data_datasets')
      .set((eb) => ({ next_version: eb('next_version', '+', 1), last_update_time: now }))
      .where('dataset_pk', '=', datasetPk)
      .returning('next_version')
      .executeTakeFirstOrThrow();
    return Number(row.next_version) - 1;
  }

  async insertVersion(trx: Db, row: Selectable<DataVersionsTable>): Promise<void> {
    await trx.insertInto('data_versions').values(row).execute();
  }

  private versions(db: Db, full: boolean) {
    const q = db.selectFrom('data_versions as v').innerJoin('data_datasets as d', 'd.dataset_pk', 'v.dataset_pk').select('d.name');
    return full ? q.selectAll('v') : q.select([...SUMMARY]).select([sql<string>`''`.as('schema'), sql<string>`''`.as('profile')]);
  }

  async versionRow(name: string, version: number | 'latest', full = true, db: Db = this.db): Promise<VersionRow | undefined> {
    let q = this.versions(db, full).where('d.name', '=', name);
    q = version === 'latest' ? q.orderBy('v.version', 'desc').limit(1) : q.where('v.version', '=', version);
    return (await q.executeTakeFirst()) as VersionRow | undefined;
  }

  async versionByDatasetDigest(datasetPk: number, digest: string, db: Db = this.db): Promise<VersionRow | undefined> {
    return (await this.versions(db, true).where('v.dataset_pk', '=', datasetPk).where('v.digest', '=', digest).orderBy('v.version').limit(1).executeTakeFirst()) as VersionRow | undefined;
  }

  /** Versions whose digest or MLflow digest equals `digest`, oldest first. */
  async versionsByDigest(digest: string): Promise<VersionRow[]> {
    const readable = readableProjects();
    if (readable !== 'all' && readable.length === 0) return [];
    return (await this.versions(this.db, true)
      .where((eb) => eb.or([eb('v.digest', '=', digest), eb('v.mlflow_digest', '=', digest)]))
      .$if(readable !== 'all', (q) => q.where('d.project_id', 'in', [...(readable as readonly number[])]))
      .orderBy('v.creation_time')
      .orderBy('v.version')
      .execute()) as VersionRow[];
  }

  /** Summaries (no profile) of the versions whose digest or MLflow digest is one of `digests`. */
  async versionsByDigests(digests: readonly string[]): Promise<VersionRow[]> {
    if (digests.length === 0) return [];
    return (await this.versions(this.db, false)
      .where((eb) => eb.or([eb('v.digest', 'in', [...digests]), eb('v.mlflow_digest', 'in', [...digests])]))
      .orderBy('v.creation_time')
      .orderBy('v.version')
      .execute()) as VersionRow[];
  }

  async listVersions(datasetPk: number, offset: number, limit: number): Promise<VersionRow[]> {
    return (await this.versions(this.db, false).where('v.dataset_pk', '=', datasetPk).orderBy('v.version', 'desc').offset(offset).limit(limit).execute()) as VersionRow[];
  }

  /** Whether any version (optionally outside one dataset) lists the blob in its manifest. */
  async blobReferenced(sha256: string, exceptDatasetPk?: number): Promise<boolean> {
    let q = this.db.selectFrom('data_versions').select('version').where('manifest', 'like', `%"sha256":"${sha256}"%`);
    if (exceptDatasetPk !== undefined) q = q.where('dataset_pk', '!=', exceptDatasetPk);
    return (await q.limit(1).executeTakeFirst()) !== undefined;
  }

  async manifestsOf(datasetPk: number): Promise<string[]> {
    return (await this.db.selectFrom('data_versions').select('manifest').where('dataset_pk', '=', datasetPk).execute()).map((r) => r.manifest);
  }

  /** Deletes a dataset with its versions and validations, in the caller's transaction when `db` is one, else in its own. */
  async deleteDataset(datasetPk: number, db: Kysely<DataTables> = this.db): Promise<void> {
    await inTransaction(db, async (trx) => {
      await trx.deleteFrom('data_validations').where('dataset_pk', '=', datasetPk).execute();
      await trx.deleteFrom('data_versions').where('dataset_pk', '=', datasetPk).execute();
      await trx.deleteFrom('data_datasets').where('dataset_pk', '=', datasetPk).execute();
    });
  }

  async insertValidation(db: Db, row: Omit<Selectable<DataValidationsTable>, 'validation_pk'>): Promise<number> {
    const r = await db.insertInto('data_validations').values(row).returning('validation_pk').executeTakeFirstOrThrow();
    return Number(r.validation_pk);
  }

  /** Validations of a version, latest first. */
  async validations(datasetPk: number, version: number, limit: number): Promise<ValidationRow[]> {
    return (await this.db
      .selectFrom('data_validations as x')
      .innerJoin('data_datasets as d', 'd.dataset_pk', 'x.dataset_pk')
      .selectAll('x')
      .select('d.name')
      .where('x.dataset_pk', '=', datasetPk)
      .where('x.version', '=', version)
      .orderBy('x.validation_pk', 'desc')
      .limit(limit)
      .execute()) as ValidationRow[];
  }
}
