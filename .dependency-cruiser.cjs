/** Import rules that keep the architecture honest (see README "Architecture"). */
const io =
  '^(node:)?(fs|fs/promises|net|http|https|child_process|dgram|dns|os)$|^(dockerode|better-sqlite3|knex|express|systeminformation|bonjour-service|pino)$';
const adapters = ['engine', 'store', 'cloud', 'logs', 'device', 'api', 'config'];
module.exports = {
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
      name: 'only-main-wires',
      severity: 'error',
      from: { path: '^src/(?!main\\.ts)' },
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
