// esbuild plugins of scripts/build.mjs that keep what the idle agent never uses out of its heap
// (BENCHMARKS.md, "Build-level cuts"). In a file of their own so that tests can build with them.
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
