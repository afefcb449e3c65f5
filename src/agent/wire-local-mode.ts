/**
 * Local mode's wiring: which mode the agent starts in, whether the cloud may switch it at run time, and
 * the one way out (the local-mode exit plan, run by the reconciler).
 *
 * The mode is BOSUN_LOCAL_MODE when set, else the stored cloud target's SUPERVISOR_LOCAL_MODE, followed
 * at run time (src/reconciler/local-mode-switch.ts); an unmanaged device (no apiEndpoint in config.json)
 * keeps BOSUN_LOCAL_MODE or local mode.
 */
import { resolveConfigVars } from '../config/config-vars.js';
import { leaveLocalMode, type LocalModeExitDeps } from '../reconciler/local-mode-exit.js';
import { LocalModeSwitch } from '../reconciler/local-mode-switch.js';
import type { Logger } from '../shared/logger.js';
import type { TargetOrigin } from '../store/ports.js';

type CloudOrigin = Extract<TargetOrigin, { kind: 'cloud' }>;

export interface LocalModeWiringDeps {
  env: NodeJS.ProcessEnv;
  /** The mode the settings resolved (BOSUN_LOCAL_MODE, or local mode without a cloud). */
  settingsLocalMode: boolean;
  /** config.json's apiEndpoint: a device with one is managed by that cloud. */
  apiEndpoint: string | undefined;
  targets: LocalModeExitDeps['targets'];
  /** The reconciler's one-off plans; late-bound (the reconciler is built after the switch). */
  runPlan: LocalModeExitDeps['runPlan'];
  /** A line in the device's log; late-bound (the log pipeline is built after the switch). */
  announce: (message: string) => void;
  logger: Logger;
}

export interface LocalModeWiring {
  modeSwitch: LocalModeSwitch;
  /** Where the cloud's targets are stored (an empty endpoint on an unmanaged device). */
  cloudOrigin: CloudOrigin;
  /** Whether the cloud client runs: managed, and not pinned to local mode by BOSUN_LOCAL_MODE. */
  cloudRuns: boolean;
  /**
   * Runs the local-mode exit when the agent starts outside local mode (see below); resolves when done,
   * never rejects (a failure is logged).
   */
  leaveAtStart: () => Promise<void>;
}

export async function wireLocalMode(deps: LocalModeWiringDeps): Promise<LocalModeWiring> {
  const { env, targets, logger } = deps;
  const cloudOrigin: CloudOrigin = { kind: 'cloud', endpoint: deps.apiEndpoint ?? '' };
  const managed = cloudOrigin.endpoint !== '';
  const pinnedByEnv = (env['BOSUN_LOCAL_MODE'] ?? '') !== '' || !managed;
  const storedCloud = pinnedByEnv ? undefined : await targets.load(cloudOrigin);
  const leave = (): ReturnType<typeof leaveLocalMode> =>
    leaveLocalMode({ runPlan: (b, o) => deps.runPlan(b, o), targets, logger });
  const modeSwitch = new LocalModeSwitch({
    initial: storedCloud
      ? resolveConfigVars(storedCloud.config).config.localMode
      : deps.settingsLocalMode,
    pinnedByEnv,
    cloudOrigin,
    targets,
    leave,
    localModeOf: (config) => resolveConfigVars(config).config.localMode,
    announce: (message) => deps.announce(message),
    logger,
  });
  const localModeAtStart = modeSwitch.localMode;
  return {
    modeSwitch,
    cloudOrigin,
    cloudRuns: managed && !(pinnedByEnv && localModeAtStart),
    leaveAtStart: async () => {
      if (localModeAtStart) return;
      // Out of local mode (BOSUN_LOCAL_MODE=false after a local session): remove the local app's
      // containers, networks and images before the cloud target is applied. A failure keeps the local
      // target stored, so the next start tries again. Called before the loop starts, so it runs first.
      await leave().then(
        () => undefined,
        (err: unknown) =>
          logger.child({ component: 'main' }).error('local-mode.exit-failed', { err }),
      );
    },
  };
}
