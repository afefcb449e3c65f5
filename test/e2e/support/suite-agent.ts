/**
 * The agent a suite of end-to-end tests drives: registers the suite's `before` (Docker and the local
 * registries must be there, or the suite fails loudly; then a new agent in local mode is started) and
 * `after` (the agent and its data dir removed, then everything labelled with the suite's prefix).
 * Call it in the `describe` body; the returned function gives the agent inside tests.
 */
import { AgentProcess } from '../../support/agent-process.js';
import { cleanupByLabel, requireDocker } from '../../support/docker.js';
import { requireRegistries } from '../../support/registry.js';

export function suiteAgent(prefix: string): () => AgentProcess {
  let agent: AgentProcess | undefined;
  before(async () => {
    await requireDocker();
    await requireRegistries();
    agent = await AgentProcess.create(prefix);
    await agent.start();
  });
  after(async () => {
    await agent?.remove();
    await cleanupByLabel(prefix);
  });
  return () => {
    if (agent === undefined) throw new Error('the suite agent is used before its `before` ran');
    return agent;
  };
}
