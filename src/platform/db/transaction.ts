import type { Kysely, Transaction } from 'kysely';

/**
 * Runs `fn` in a transaction: `db` itself when it already is one (a store made on the transaction of a change that
 * also records its audit entry), else a new transaction of `db`.
 */
export function inTransaction<DB, T>(db: Kysely<DB>, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db as Transaction<DB>) : db.transaction().execute(fn);
}
