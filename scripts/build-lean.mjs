import { readFile } from 'node:fs/promises';

// esbuild plugins for scripts/build.mjs that keep library code bosun never runs out of the idle agent
// (issue 16; BENCHMARKS.md "Modules the idle agent does not load"). Each replaces one require inside a
// package, and only from the file named, so the rest of the package is bundled as it is.

/** A module of the bundle made of `contents` (CommonJS). */
function virtualModule(build, name, filter, importerPattern, contents) {
  build.onResolve({ filter }, (args) =>
    importerPattern.test(args.importer.replaceAll('\\', '/'))
      ? { path: name, namespace: 'bosun-lean', pluginData: { resolveDir: args.resolveDir } }
      : undefined,
  );
  build.onLoad({ filter: new RegExp(`^${name}$`), namespace: 'bosun-lean' }, (args) => ({
    contents,
    loader: 'js',
    resolveDir: args.pluginData.resolveDir,
  }));
}

/**
 * pino's transports run log targets in a worker thread (thread-stream, worker_threads). bosun never
 * uses one (its logger writes JSON lines to a stream it passes pino, src/shared/logger.ts), but pino
 * loads that machinery whenever it loads. Here `pino.transport()` and the `transport` option throw
 * instead, and pino's check for "am I a worker thread" (only to register exit handlers) is answered
 * "no": the bundle never runs pino in a worker.
 */
export const pinoWithoutTransports = {
  name: 'pino-without-transports',
  setup(build) {
    virtualModule(
      build,
      'pino-transport-left-out',
      /^\.\/(lib\/)?transport$/,
      /\/node_modules\/pino\/(pino|lib\/tools)\.js$/,
      "module.exports = function transport () { throw new Error('pino transports are not part of the bosun bundle') }",
    );
    virtualModule(
      build,
      'pino-main-thread',
      /^worker_threads$/,
      /\/node_modules\/pino\/lib\/tools\.js$/,
      'module.exports = { isMainThread: true }',
    );
  },
};

/**
 * express requires body-parser when it loads, and body-parser loads all four parsers at once, with
 * node:zlib (to inflate compressed bodies) and iconv-lite. An agent that answers no request with a body
 * never needs them: express's `json`, `raw`, `text` and `urlencoded` become functions that load
 * body-parser on their first call (src/api/app.ts makes its JSON parser on the first request with a
 * body).
 */
export const bodyParserOnFirstUse = {
  name: 'body-parser-on-first-use',
  setup(build) {
    virtualModule(
      build,
      'body-parser-on-first-use',
      /^body-parser$/,
      /\/node_modules\/express\/lib\/express\.js$/,
      [
        'let bodyParser',
        "const load = () => (bodyParser ??= require('body-parser'))",
        "for (const name of ['json', 'raw', 'text', 'urlencoded'])",
        '  exports[name] = (options) => load()[name](options)',
      ].join('\n'),
    );
  },
};

/**
 * better-sqlite3's JavaScript goes into the bundle, and its compiled addon (which cannot) is loaded by
 * its path in node_modules, where npm and the image put it (build/Release). Left outside the bundle,
 * Node's CommonJS loader loaded its 14 files and `bindings` (which tries candidate paths until one
 * loads) at start, and that much path resolution was enough for TurboFan to compile path's
 * `normalizeString` during start: the optimising compiler's code pages then count in the idle agent's
 * RSS. Fails the build if better-sqlite3 stops loading its addon the way this replaces.
 */
export const betterSqliteAddonByPath = {
  name: 'better-sqlite3-addon-by-path',
  setup(build) {
    build.onLoad(
      { filter: /[\\/]node_modules[\\/]better-sqlite3[\\/]lib[\\/]database\.js$/ },
      async (args) => {
        const source = await readFile(args.path, 'utf8');
        const lookup = "require('bindings')('better_sqlite3.node')";
        if (!source.includes(lookup))
          throw new Error(
            `${args.path} no longer loads its addon with ${lookup}: see scripts/build-lean.mjs`,
          );
        return {
          contents: source.replace(
            lookup,
            "require(require.resolve('better-sqlite3/build/Release/better_sqlite3.node'))",
          ),
          loader: 'js',
        };
      },
    );
  },
};
