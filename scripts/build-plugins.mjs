// esbuild plugins of scripts/build.mjs that keep what the idle agent never uses out of its heap
// (BENCHMARKS.md, "Build-level cuts" and "Modules the idle agent does not load").
// In a file of their own so that tests can build with them.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// zod 4's `z.locales` (classic/external.js) and `core.locales` (core/index.js) re-export ~60 locales
// from locales/index.js: ~340 KB of source that would sit in the idle agent's heap as part of the main
// chunk's source string, for messages bosun never shows (it never calls `z.config(z.locales.xx())`).
// English, the default zod installs on first schema construction (classic/schemas.js imports
// locales/en.js directly), stays: `z.locales.en` is the same module, so messages are unchanged
// (test/unit/build/zod-english-only.spec.ts builds zod with it; test/e2e/bundle-build-cuts.spec.ts
// compares a validation message of the agent with the text zod gives unbundled).
export const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]v4[\\/](classic|core)$/.test(args.resolveDir)
        ? { path: join(dirname(args.resolveDir), 'locales', 'index.js'), namespace: 'zod-en' }
        : undefined,
    );
    pluginBuild.onLoad({ filter: /.*/, namespace: 'zod-en' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(join(dirname(args.path), 'en.js'))};`,
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
  },
};

// mime-types builds its maps of mime-db's ~2,500 types at load (~0.9 MiB of objects, and mime-db's
// 147 KB of source in the bundle) for express, which asks it about the few types bosun's API sends.
// scripts/mime-types-lazy.cjs answers those the same way and loads the real module from node_modules
// (external here) only for any other question.
const mimeTypesLazy = fileURLToPath(new URL('./mime-types-lazy.cjs', import.meta.url));
export const lazyMimeTypes = {
  name: 'lazy-mime-types',
  setup(pluginBuild) {
    pluginBuild.onResolve({ filter: /^mime-types$/ }, (args) =>
      args.importer === mimeTypesLazy
        ? { path: 'mime-types', external: true }
        : { path: mimeTypesLazy },
    );
  },
};

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
 * Packages required at load but used only on paths bosun does not take while idle: each is bundled as
 * an object that requires the real package from node_modules (external) on the first property read and
 * forwards every read to it. `qs`: express's extended query parser (bosun's API keeps express's
 * default, Node's querystring) and body-parser's urlencoded parser (never registered), with
 * object-inspect, get-intrinsic and side-channel under it. `@opentelemetry/api`: prom-client's CPU
 * metric reads it only for exemplars, which bosun does not enable. Only for packages whose importers
 * keep the module object and read properties later: one destructured at load would load at once, which
 * test/e2e/idle-modules.spec.ts would see.
 */
const LAZY_PACKAGES = ['qs', '@opentelemetry/api', 'crypto'];
export const lazyPackages = {
  name: 'lazy-packages',
  setup(pluginBuild) {
    const filter = new RegExp(
      `^(${LAZY_PACKAGES.map((p) => p.replace(/[/@]/g, '\\$&')).join('|')})$`,
    );
    pluginBuild.onResolve({ filter }, (args) =>
      args.namespace === 'lazy-package'
        ? { path: args.path, external: true }
        : { path: args.path, namespace: 'lazy-package' },
    );
    pluginBuild.onLoad({ filter: /.*/, namespace: 'lazy-package' }, (args) => ({
      contents: `'use strict';
let real;
const load = () => real || (real = require(${JSON.stringify(args.path)}));
module.exports = new Proxy({}, {
  get: (_target, key) => load()[key],
  has: (_target, key) => key in load(),
  ownKeys: () => Reflect.ownKeys(load()),
  getOwnPropertyDescriptor: (_target, key) => {
    const found = Object.getOwnPropertyDescriptor(load(), key);
    return found && { ...found, configurable: true };
  },
});
`,
      loader: 'js',
    }));
  },
};
