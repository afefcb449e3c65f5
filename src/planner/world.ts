/**
 * Facts about the whole observed state that every app's planning reads, computed once per plan()
 * (never cached across calls: plan() keeps no state between rounds).
 */
import { lockKey, type LockKey } from '../domain/keys.js';
import type { ContainerState, CurrentState, TargetState } from '../domain/model.js';
import type { PlanContext } from './context.js';
import { ImageIndex, pulledImageIds } from './images.js';

export interface World {
  target: TargetState;
  current: CurrentState;
  ctx: PlanContext;
  images: ImageIndex;
  /** Engine image ids the agent pulled (the only ones it may remove). */
  pulledIds: Set<string>;
  /** Every current container by name: names are unique on the engine, across apps. */
  containersByName: Map<string, ContainerState>;
  /** `<appId>/<service>` entries whose new container signalled hand-over complete. */
  handoverComplete: Set<string>;
  /** Who holds each service's update lock. */
  locks: Map<LockKey, 'user' | 'agent'>;
}

export function observeWorld(target: TargetState, current: CurrentState, ctx: PlanContext): World {
  const images = new ImageIndex(current.images, ctx.targetImageIds);
  const locks = new Map<LockKey, 'user' | 'agent'>();
  for (const lock of current.locks) {
    const key = lockKey(lock.appId, lock.serviceName);
    // A user's lock wins over ours if both are reported: it is the one that must be respected.
    if (locks.get(key) !== 'user') locks.set(key, lock.heldBy);
  }
  return {
    target,
    current,
    ctx,
    images,
    pulledIds: pulledImageIds(current, ctx),
    containersByName: new Map(current.containers.map((c) => [c.name, c])),
    handoverComplete: new Set(current.handoverComplete),
    locks,
  };
}
