/**
 * A real store on a fresh temporary SQLite file, for tests of code that depends on the store's ports
 * (reconciler, agent, API). `dispose()` closes it and deletes the file.
 */
import type { Logger } from '../../src/shared/logger.js';
import { silentLogger } from '../../src/shared/logger.js';
import { openStore } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/ports.js';
import { makeTempDir } from './store-temp.js';

export interface TempStore {
  readonly store: Store;
  readonly path: string;
  dispose(): Promise<void>;
}

export async function openTempStore(logger: Logger = silentLogger()): Promise<TempStore> {
  const dir = makeTempDir();
  const path = dir.file('bosun.sqlite');
  try {
    const store = await openStore({ path, logger });
    return {
      store,
      path,
      dispose: async () => {
        await store.close();
        dir.remove();
      },
    };
  } catch (err) {
    dir.remove();
    throw err;
  }
}
