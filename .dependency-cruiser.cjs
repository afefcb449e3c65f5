/** Import rules that keep the architecture honest (see README "Architecture"). */
const io =
  '^(node:)?(fs|fs/promises|net|http|https|child_process|dgram|dns|os)$|^(dockerode|better-sqlite3|knex|express|systeminformation|bonjour-service|pino)$';
const adapters = ['engine', 'store', 'cloud', 'logs', 'device', 'api', 'config'];
/**
 * What each folder of src/ may import besides itself (allow-lists: anything else is an error). The core
 * (shared → domain → planner) imports nothing above it; the executor runs plans against the engine
 * port; the reconciler drives planner and executor (store and logs through their port types); adapters
 * see the core only; agent/cloud/observability/cli sit on top. Only start.ts and main.ts wire everything.
 * A new folder has no entry, so its imports are reported until it gets one.
 */
const mayImport = {
  shared: [],
  domain: ['shared'],
  planner: ['domain', 'shared'],
  engine: ['domain', 'shared'],
  store: ['shared'],
  config: ['domain', 'shared'],
  logs: ['shared'],
  api: ['domain', 'shared'],
  registry: ['engine', 'shared'],
  executor: ['planner', 'engine', 'domain', 'shared'],
  reconciler: ['executor', 'planner', 'engine', 'registry', 'store', 'logs', 'domain', 'shared'],
  device: ['reconciler', 'domain', 'shared'],
  agent: ['reconciler', 'planner', 'engine', 'store', 'config', 'api', 'domain', 'shared'],
  cloud: ['agent', 'reconciler', 'domain', 'shared'],
  observability: ['agent', 'api', 'logs', 'reconciler', 'shared'],
  cli: ['api', 'config', 'store', 'shared'],
};
module.exports = {
  allowedSeverity: 'error',
  allowed: [
    ...Object.entries(mayImport).map(([folder, others]) => ({
      comment: `src/${folder}/ may import: ${others.join(', ') || 'nothing else in src/'}`,
      from: { path: `^src/${folder}/` },
      to: { path: `^src/(${[folder, ...others].join('|')})/` },
    })),
    {
      comment:
        'the store runs the schema migrations (migrations/, outside src/), which use its types',
      from: { path: '^(src/store|migrations)/' },
      to: { path: '^(migrations|src/store)/' },
    },
    {
      comment: 'the entry point (start.ts) and the composition root (main.ts) wire everything',
      from: { path: '^src/(main|start)\\.ts$' },
      to: {},
    },
    {
      comment: 'observability/hooks.ts is a port of types (metrics hooks) any folder may report to',
      from: { path: '^src/' },
      to: { path: '^src/observability/hooks\\.ts$' },
    },
    { comment: 'packages and node built-ins', from: {}, to: { dependencyTypesNot: ['local'] } },
  ],
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'pure-core-no-io',
      comment: 'domain/ and planner/ are pure: no I/O modules, no adapters.',
      severity: 'error',
      from: { path: '^src/(domain|planner)/' },
      to: { path: [io, '^src/(engine|store|cloud|logs|device|api|config|executor|reconciler)/'] },
    },
    {
      name: 'domain-below-planner',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: '^src/planner/' },
    },
    ...adapters.map((a) => ({
      name: `adapter-${a}-isolated`,
      comment: 'Adapters never import each other; only main.ts wires them.',
      severity: 'error',
      from: { path: `^src/${a}/` },
      to: { path: `^src/(${adapters.filter((b) => b !== a).join('|')})/` },
    })),
    {
      name: 'reachable-from-main',
      comment:
        'Nothing in src/ the agent does not run: every module is imported, directly or not, by the entry ' +
        'point src/start.ts (which opens the API port, then loads src/main.ts). ' +
        "The exceptions: the dashboard's browser files (src/api/dashboard/) are served to browsers, not imported; " +
        'type declarations (*.d.ts) are read by the compiler, not imported.',
      severity: 'error',
      from: { path: '^src/start\\.ts$' },
      to: {
        path: '^src/',
        pathNot: '^src/api/dashboard/|\\.d\\.ts$',
        reachable: false,
      },
    },
    {
      name: 'planner-through-index',
      comment: 'planner/index.ts is the only way into the planner.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/planner/' },
      to: { path: '^src/planner/', pathNot: '^src/planner/index\\.ts$' },
    },
    {
      name: 'only-main-wires',
      comment: 'Only the entry point (src/start.ts) loads the composition root.',
      severity: 'error',
      from: { path: '^src/(?!(main|start)\\.ts)' },
      to: { path: '^src/main\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
