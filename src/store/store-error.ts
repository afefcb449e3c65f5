/** Translates SQLite failures into STORE_ERROR at the store's boundary. */
import { BosunError, errorMessage } from '../shared/errors.js';

/**
 * Runs one repository operation (synchronous: prepared statements on one connection) and hands back
 * its result as the ports' promise; a driver error becomes STORE_ERROR naming what was being done.
 */
export function storeOperation<T>(what: string, operation: () => T): Promise<T> {
  try {
    return Promise.resolve(operation());
  } catch (err) {
    if (err instanceof BosunError) return Promise.reject(err);
    return Promise.reject(
      new BosunError('STORE_ERROR', `${what}: ${errorMessage(err)}`, { cause: err }),
    );
  }
}
