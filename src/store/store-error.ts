/** Translates SQLite/knex failures into STORE_ERROR at the store's boundary. */
import { BosunError, errorMessage } from '../shared/errors.js';

export async function storeOperation<T>(what: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (err) {
    if (err instanceof BosunError) throw err;
    throw new BosunError('STORE_ERROR', `${what}: ${errorMessage(err)}`, { cause: err });
  }
}
