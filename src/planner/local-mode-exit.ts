/**
 * Leaving local mode, as a plan: the local apps' containers are discarded (killed and removed at once:
 * the developer's session is over, there is nothing to hand over), then their networks, and the images
 * their services named (e.g. balena-cli's `local_<service>` builds). Volumes stay (a developer's data
 * outlives a push session) and nothing outside the local apps is touched.
 *
 * [quirk] balena-supervisor diffs two engine snapshots and force-removes every container, image, network
 * and volume created while in local mode, including what the user made by hand
 * (docs/protocol.md#leaving-local-mode). bosun removes only objects it can tie to a local app.
 *
 * Pure: the reconciler observes, runs the plan through the executor, and forgets the local target only
 * when the containers and networks are gone (an image still used elsewhere is kept, not an error).
 */
import { normaliseImageName } from '../domain/image-name.js';
import type { CurrentState } from '../domain/model.js';
import { stepIds } from './ids.js';
import type { Plan, Step } from './steps.js';

export interface LocalModeExit {
  /** App uuids of the stored local target. */
  apps: readonly string[];
  /** Image references the local target's services named. */
  images: readonly string[];
}

export function planLocalModeExit(exit: LocalModeExit, current: CurrentState): Plan {
  const apps = new Set(exit.apps);
  const steps: Step[] = [];
  const discarded = new Map<string, string[]>();
  for (const c of current.containers) {
    if (!apps.has(c.appUuid)) continue;
    const id = stepIds.discardContainer(c.appUuid, c.serviceName, c.id);
    steps.push({
      kind: 'discardContainer',
      id,
      reason: `local mode ended: ${c.name} of the local app goes`,
      dependsOn: [],
      appUuid: c.appUuid,
      containerId: c.id,
      serviceName: c.serviceName,
    });
    discarded.set(c.appUuid, [...(discarded.get(c.appUuid) ?? []), id]);
  }
  for (const n of current.networks) {
    if (!apps.has(n.appUuid)) continue;
    steps.push({
      kind: 'removeNetwork',
      id: stepIds.removeNetwork(n.engineName),
      reason: `local mode ended: the local app's network ${n.engineName} goes`,
      dependsOn: discarded.get(n.appUuid) ?? [],
      appUuid: n.appUuid,
      engineName: n.engineName,
    });
  }
  const allDiscards = [...discarded.values()].flat();
  for (const reference of [...new Set(exit.images)].sort()) {
    const normal = normaliseImageName(reference);
    const tag = typeof normal === 'string' ? normal : reference;
    const image = current.images.find(
      (i) => i.repoTags.includes(tag) || i.repoTags.includes(reference),
    );
    if (image === undefined) continue; // already gone
    steps.push({
      kind: 'removeImage',
      id: stepIds.removeImageReference(reference),
      reason: `local mode ended: ${reference}, named by the local target, goes unless something else uses it`,
      dependsOn: allDiscards,
      appUuid: undefined,
      image: reference,
      engineImageId: image.id,
    });
  }
  return { steps, blockers: [] };
}
