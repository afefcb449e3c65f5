/**
 * Local mode followed at run time from the cloud's `SUPERVISOR_LOCAL_MODE` config var (as
 * balena-supervisor does, without a restart). The reconciler asks `follow()` before each load of its
 * target: when the cloud target's var says so, the device enters local mode (a developer's pushes are
 * applied instead of the cloud's target, and the API stops asking for keys); when it no longer does,
 * the device leaves it through `leave` (leaveLocalMode, a plan the reconciler runs: the local apps'
 * containers, networks and images removed, volumes kept) and goes back to the cloud's stored target. Polling and reporting go on throughout, so
 * the var can be turned off again from the dashboard.
 *
 * BOSUN_LOCAL_MODE, when set, wins: an operator's explicit choice is not overridden by the cloud.
 */
import type { Logger } from '../shared/logger.js';
import type { StoredTarget, TargetOrigin } from '../store/ports.js';
import type { LocalModeExitResult } from './local-mode-exit.js';

export interface LocalModeSwitchDeps {
  /** Mode at start (from the stored cloud target, or the environment). */
  initial: boolean;
  /** true: BOSUN_LOCAL_MODE was set, the cloud var is ignored. */
  pinnedByEnv: boolean;
  cloudOrigin: TargetOrigin;
  targets: { load(origin: TargetOrigin): Promise<StoredTarget | undefined> };
  /** Leaves local mode (leaveLocalMode through the reconciler). */
  leave: () => Promise<LocalModeExitResult>;
  /** The config var's value in a target's config (prefixes and parsing as the config module does). */
  localModeOf: (config: Readonly<Record<string, string>>) => boolean;
  /** A line in the device's log (the dashboard shows it). */
  announce: (message: string) => void;
  logger: Logger;
}

export class LocalModeSwitch {
  private mode: boolean;

  constructor(private readonly deps: LocalModeSwitchDeps) {
    this.mode = deps.initial;
  }

  get localMode(): boolean {
    return this.mode;
  }

  /** Reads the cloud target's var and switches when it changed; resolves with the mode to use now. */
  async follow(): Promise<boolean> {
    if (this.deps.pinnedByEnv) return this.mode;
    const cloud = await this.deps.targets.load(this.deps.cloudOrigin);
    if (cloud === undefined) return this.mode;
    const wanted = this.deps.localModeOf(cloud.config);
    if (wanted === this.mode) return this.mode;
    const log = this.deps.logger.child({ component: 'local-mode' });
    if (wanted) {
      this.mode = true;
      log.info('local-mode.entered', { by: 'SUPERVISOR_LOCAL_MODE' });
      this.deps.announce('Switching to local mode');
      return this.mode;
    }
    this.deps.announce('Switching out of local mode');
    const result = await this.deps.leave();
    this.mode = false;
    log.info('local-mode.left-at-run-time', { ...result });
    return this.mode;
  }
}
