// Builds the agent into one ES module, dist/bosun.mjs, with esbuild.
// Why a bundle: Node spends most of bosun's start-up resolving and compiling ~700 module files
// (express and knex alone are hundreds); one minified file starts about twice as fast on a Pi-class CPU
// and lets unused code (knex's other SQL dialects) fall away. Type checking is `npm run typecheck`.
import { readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';
import {
  bodyParserOnFirstUse,
  lazyMimeTypes,
  lazyPackages,
  pinoWithoutTransports,
  zodEnglishOnly,
} from './build-plugins.mjs';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
// The dashboard's page, script and style travel inside the bundle (src/api/dashboard-assets.ts).
const dashboardFile = (name) =>
  readFileSync(new URL(`../src/api/dashboard/${name}`, import.meta.url), 'utf8');
const dashboardAssets = {
  html: dashboardFile('index.html'),
  js: dashboardFile('dashboard.js'),
  css: dashboardFile('dashboard.css'),
};

// Packages with optional runtime requires stay in node_modules.
const external = [
  // better-sqlite3's JavaScript is bundled; its native addon is loaded from node_modules by path
  // (src/shared/sqlite-addon.ts gives every connection `nativeBinding`). `bindings`, its finder when no
  // path is given, stays out: a connection opened without the path fails loudly instead of searching.
  'bindings',
  // knex requires every SQL dialect's driver lazily; bosun only ever uses better-sqlite3.
  'pg',
  'pg-query-stream',
  'mysql',
  'mysql2',
  'mariadb',
  'mariadb/callback',
  'oracledb',
  'tedious',
  'sqlite3',
  // mDNS is loaded only when advertising is switched on.
  'bonjour-service',
  'multicast-dns',
  // body-parser requires iconv-lite at load but needs its ~480 KB of encoding tables only when a body
  // arrives (iconv-lite loads them on first use). Bundled, their source would sit in the idle agent's
  // heap; from node_modules (where the lockfile puts it, top level) they load on the first request.
  'iconv-lite',
];

await rm('dist', { recursive: true, force: true });
await build({
  // src/start.ts opens the API port and answers /ping, then imports the rest (src/main.ts): with
  // splitting, that rest is a separate chunk that Node parses only after the port is open.
  entryPoints: { bosun: 'src/start.ts' },
  outdir: 'dist',
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  mainFields: ['module', 'main'],
  minify: true,
  // No keepNames: its `__name(fn, "...")` call per function and class cost ~1.2 MiB of idle V8 heap and
  // was among the first functions TurboFan compiled at start (BENCHMARKS.md, "Build-level cuts").
  // Nothing at run time depends on the bundled identifiers: bosun's error classes name themselves
  // (`static name`, reported as `type` by the logger), and the libraries' name-dependent code reads
  // names they set explicitly (zod's $constructor, http-errors) or Node's own functions (unpipe).
  keepNames: false,
  sourcemap: true,
  external,
  // Library code the idle agent never runs stays out of its heap (scripts/build-plugins.mjs).
  plugins: [
    zodEnglishOnly,
    lazyMimeTypes,
    lazyPackages,
    pinoWithoutTransports,
    bodyParserOnFirstUse,
  ],
  // CommonJS dependencies call require(); give the ES module one.
  banner: {
    js: "import { createRequire as __bosunCreateRequire } from 'node:module'; const require = __bosunCreateRequire(import.meta.url);",
  },
  // The version is part of the artifact, not looked up next to it at run time.
  define: {
    'process.env.BOSUN_BUILD_VERSION': JSON.stringify(version),
    'process.env.BOSUN_DASHBOARD_ASSETS': JSON.stringify(JSON.stringify(dashboardAssets)),
  },
  logLevel: 'warning',
});
