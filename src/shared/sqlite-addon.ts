/**
 * Where better-sqlite3's native addon is, for its `nativeBinding` option.
 *
 * Why not let better-sqlite3 find it: without the option it asks the `bindings` package, which walks a
 * dozen candidate directories through Node's CommonJS loader, and better-sqlite3's own ~14 files load
 * that way too. That start-up burst of path work is what made V8 optimise path's `normalizeString`
 * with TurboFan in every start, and the optimising compiler's first use alone keeps ~3.6 MiB more of the
 * node binary resident in an idle agent (BENCHMARKS.md, "Modules the idle agent does not load"). With the
 * path given, the bundle carries better-sqlite3's JavaScript (scripts/build.mjs) and only the addon is
 * loaded from node_modules, by one `require` of this path.
 */
import { createRequire } from 'node:module';

const ADDON = 'better-sqlite3/build/Release/better_sqlite3.node';

/**
 * The addon's absolute path, resolved from node_modules as the package itself would be, once per
 * process: a resolution walks and normalises a dozen paths, and the agent opens four connections at
 * start, enough path work to get path's `normalizeString` TurboFan-compiled on a long data-dir path.
 */
export const SQLITE_ADDON_PATH = createRequire(import.meta.url).resolve(ADDON);
