/**
 * Health-gated rollback, the choice half: which release of each app the planner is given. Pure: from
 * the releases the stored target names, the last release of each app that was confirmed healthy and the
 * releases that failed their confirmation window, it picks per app either the stored release or, when the
 * stored one is exactly the one that failed, the last confirmed one. A release is identified by the hash
 * of its whole target document (commit, images, env, labels…), so the failed release is not retried
 * until a different target arrives (any change to the app's document), and there is no rollback loop.
 */

/** One app's release as the guard identifies it. */
export interface ReleaseIdentity {
  commit: string;
  /** Hash of the app's raw target document: a different document is a different target. */
  docHash: string;
}

export interface FailedReleaseVerdict extends ReleaseIdentity {
  reason: string;
}

export interface ReleaseVerdicts {
  /** By app uuid: the last release confirmed healthy. */
  confirmed: Readonly<Record<string, ReleaseIdentity>>;
  /** By app uuid: the last release that failed its confirmation window. */
  failed: Readonly<Record<string, FailedReleaseVerdict>>;
}

export interface ReleaseSelection {
  /** Apps given their last confirmed release instead of the stored (failed) one. */
  rolledBack: string[];
  /** Apps whose stored release failed with no confirmed release to go back to: they keep it. */
  noFallback: string[];
  /** Apps whose failed verdict no longer applies (a different target arrived): forget it. */
  staleFailures: string[];
  /** Apps with verdicts that left the target: forget everything about them. */
  gone: string[];
}

/**
 * @param stored the stored target's release per app uuid (apps without a release are left out)
 * @param enabled rollback on for these apps (config var, cloud mode); when off nothing is rolled back
 */
export function selectReleases(
  stored: Readonly<Record<string, ReleaseIdentity>>,
  verdicts: ReleaseVerdicts,
  enabled: boolean,
): ReleaseSelection {
  const selection: ReleaseSelection = {
    rolledBack: [],
    noFallback: [],
    staleFailures: [],
    gone: [],
  };
  const known = new Set([...Object.keys(verdicts.confirmed), ...Object.keys(verdicts.failed)]);
  for (const uuid of [...known].sort()) if (stored[uuid] === undefined) selection.gone.push(uuid);
  for (const uuid of Object.keys(stored).sort()) {
    const release = stored[uuid];
    const failed = verdicts.failed[uuid];
    if (release === undefined || failed === undefined) continue;
    if (failed.docHash !== release.docHash) {
      selection.staleFailures.push(uuid);
      continue;
    }
    if (!enabled) continue;
    const confirmed = verdicts.confirmed[uuid];
    if (confirmed !== undefined && confirmed.docHash !== failed.docHash)
      selection.rolledBack.push(uuid);
    else selection.noFallback.push(uuid);
  }
  return selection;
}
