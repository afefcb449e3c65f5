/**
 * The command line of a benchmark that runs the agent as bin/bosun starts it next to a bare Node floor:
 * its numeric options (each `--name N`, with a default) and `--node-flags "…"`, which replaces bin/bosun's
 * Node flags for the agent, to measure one. Read with node:util's parseArgs, strict: an unknown or
 * malformed option stops the run with its name instead of being measured with a default.
 */
import { parseArgs } from 'node:util';
import { binBosunLaunch, type Launch } from './bin-bosun.js';

export interface AgentBenchOptions<K extends string> {
  numbers: Record<K, number>;
  /** bin/bosun's flags and malloc environment, for the agent and the floor alike. */
  launch: Launch;
  /** The agent's Node flags: bin/bosun's, or `--node-flags`. */
  agentFlags: string[];
}

export function agentBenchOptions<K extends string>(
  defaults: Record<K, number>,
): AgentBenchOptions<K> {
  const names = Object.keys(defaults) as K[];
  const { values } = parseArgs({
    options: {
      'node-flags': { type: 'string' },
      ...Object.fromEntries(names.map((name) => [name, { type: 'string' as const }])),
    },
    strict: true,
  });
  const numbers = { ...defaults };
  for (const name of names) {
    const text = (values as Record<string, string | undefined>)[name];
    if (text === undefined) continue;
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name}: not a number: '${text}'`);
    numbers[name] = value;
  }
  const launch = binBosunLaunch();
  const given = values['node-flags'];
  const agentFlags =
    given === undefined ? launch.flags : given.split(/\s+/).filter((f) => f !== '');
  return { numbers, launch, agentFlags };
}
