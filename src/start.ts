/**
 * The agent's entry point (`bin/bosun` runs the bundle built from here). Start-up order is chosen for
 * whoever is waiting on the device: the API port opens first and answers `GET /ping` (balena-cli, the
 * engine's healthcheck and watchdogs look there), then the rest of the agent loads (src/main.ts: config,
 * store, engine client, reconciler, logs) and takes the same port over. The subcommands load only what
 * they use.
 */
import { firstRequestGraceMs, listenEarly } from './api/early-ping.js';
import { enableCompileCache } from './config/compile-cache.js';
import { earlyListenAddress } from './config/early-listen.js';

const io = {
  env: process.env,
  cwd: process.cwd(),
};

const command = process.argv[2];
if (command === 'key') {
  // `bosun key` prints the device-wide API key and exits.
  const { runKeyCommand } = await import('./cli/key-command.js');
  process.exitCode = runKeyCommand({
    ...io,
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  });
} else if (command === 'status') {
  // `bosun status` prints what the dashboard says, read from the running agent's local API.
  const { statusCommand } = await import('./cli/status.js');
  process.exitCode = await statusCommand({
    ...io,
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  });
} else if (command === 'plan') {
  // `bosun plan [<file>]` prints what the running agent would do with a target, changing nothing.
  const { planCommand } = await import('./cli/plan-command.js');
  process.exitCode = await planCommand({
    ...io,
    args: process.argv.slice(3),
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  });
} else {
  const address = earlyListenAddress(io.env, io.cwd);
  const early = address === undefined ? undefined : await listenEarly(address.host, address.port);
  // Before the main chunk loads: it is most of what Node compiles (src/config/compile-cache.ts).
  const compileCache = enableCompileCache(io.env, io.cwd);
  // A client already waiting on the port is answered before the loop is busy loading the rest. Only
  // from Node 22 on: there the main chunk's import holds the loop; on Node 20 the early server answers
  // while it loads, and waiting would only delay the whole API when nobody asks.
  const importHoldsLoop = Number(process.versions.node.split('.')[0]) >= 22;
  if (importHoldsLoop) await early?.firstRequest(firstRequestGraceMs(performance.now()));
  const { startAgent } = await import('./main.js');
  startAgent(early, compileCache);
}
