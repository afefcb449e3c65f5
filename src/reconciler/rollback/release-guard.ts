/**
 * Health-gated rollback (README "Updates that roll back"). After a release is applied, it is watched
 * for a confirmation window (release-watch.ts judges each observation); a release that fails is
 * recorded as failed and the stored target is served with that app's last confirmed release instead
 * (selectReleases, a pure choice), so the planner simply sees an older target: no special case in the
 * executor. Every decision is in SQLite before it is acted on, so an agent killed during the window or
 * during the rollback resumes it and ends with exactly one confirmed release per app.
 *
 * Fed by the rounds the reconciler runs anyway (engine events about deaths, restarts and health wake
 * them); a timer asks for one more round when a window ends. Off in local mode (a developer pushing a
 * release wants to see it crash) and when SUPERVISOR_UPDATE_ROLLBACK is false.
 */
import { nodeCrypto } from '../../shared/node-crypto.js';
import type { CurrentState, TargetState } from '../../domain/model.js';
import { selectReleases, type Plan, type ReleaseIdentity } from '../../planner/index.js';
import type { Clock } from '../../shared/clock.js';
import type { Logger } from '../../shared/logger.js';
import type {
  ConfirmedReleaseRecord,
  FailedReleaseRecord,
  JsonObject,
  ReleaseGuardRepository,
  StoredTarget,
  TargetOrigin,
  WatchedReleaseRecord,
} from '../../store/ports.js';
import type { ReleaseCheckView } from '../status.js';
import { judge, releaseApplied } from './release-watch.js';

export interface ReleaseGuardSettings {
  enabled: boolean;
  windowMs: number;
}

export interface ReleaseGuardDeps {
  repository: ReleaseGuardRepository;
  /** The stored target of an origin, as received. */
  loadStored: (origin: TargetOrigin) => Promise<StoredTarget | undefined>;
  /** SUPERVISOR_UPDATE_ROLLBACK and _WINDOW from a target's config vars. */
  settingsOf: (config: Readonly<Record<string, string>>) => ReleaseGuardSettings;
  /** A line in the device's system log (shipped to the cloud with the other logs). */
  announce: (text: string) => void;
  clock: Clock;
  logger: Logger;
}

/** What was last served to the planner for an app. */
interface Served extends ReleaseIdentity {
  rolledBack: boolean;
  /** The raw document of the stored (target) release. */
  storedDocument: JsonObject;
  storedRelease: ReleaseIdentity;
}

export class ReleaseGuard {
  private readonly confirmed = new Map<string, ConfirmedReleaseRecord>();
  private readonly failed = new Map<string, FailedReleaseRecord>();
  private readonly watching = new Map<string, WatchedReleaseRecord>();
  private readonly served = new Map<string, Served>();
  private settings: ReleaseGuardSettings = { enabled: false, windowMs: 300_000 };
  private writes: Promise<void> = Promise.resolve();
  private timer: AbortController | undefined;
  private reload: () => void = () => undefined;
  private readonly log: Logger;

  constructor(private readonly deps: ReleaseGuardDeps) {
    this.log = deps.logger.child({ component: 'release-guard' });
  }

  /** Reads what an earlier run decided (a watch resumes with its own deadline). */
  async init(): Promise<void> {
    const state = await this.deps.repository.load();
    for (const r of state.confirmed) this.confirmed.set(r.appUuid, r);
    for (const r of state.failed) this.failed.set(r.appUuid, r);
    for (const r of state.watching) this.watching.set(r.appUuid, r);
  }

  /** How to ask the reconciler for a fresh look at the stored target (late-bound: it is built later). */
  onReload(reload: () => void): void {
    this.reload = reload;
    this.armTimer();
  }

  /**
   * The stored target of `origin` as the planner should see it: apps whose stored release failed its
   * window get their last confirmed release instead. Local targets pass through untouched.
   */
  async load(origin: TargetOrigin): Promise<StoredTarget | undefined> {
    const stored = await this.deps.loadStored(origin);
    if (stored === undefined || origin.kind === 'local') {
      this.settings = { ...this.settings, enabled: false };
      this.served.clear();
      return stored;
    }
    this.settings = this.deps.settingsOf(stored.config);
    const identities: Record<string, ReleaseIdentity> = {};
    for (const [uuid, doc] of Object.entries(stored.apps)) {
      const commit = commitOf(doc);
      if (commit !== undefined) identities[uuid] = { commit, docHash: hashOf(doc) };
    }
    const selection = selectReleases(
      identities,
      { confirmed: Object.fromEntries(this.confirmed), failed: Object.fromEntries(this.failed) },
      this.settings.enabled,
    );
    for (const uuid of selection.gone) {
      this.confirmed.delete(uuid);
      this.failed.delete(uuid);
      this.watching.delete(uuid);
      this.persist(`forget app ${uuid}`, (repo) => repo.forget(uuid));
    }
    for (const uuid of selection.staleFailures) {
      this.failed.delete(uuid);
      this.persist(`forget failure of ${uuid}`, (repo) => repo.forget(uuid, ['failed']));
    }
    const apps: Record<string, JsonObject> = { ...stored.apps };
    this.served.clear();
    for (const [uuid, identity] of Object.entries(identities)) {
      const storedDocument = stored.apps[uuid] ?? {};
      const back = selection.rolledBack.includes(uuid) ? this.confirmed.get(uuid) : undefined;
      if (back !== undefined) apps[uuid] = back.document;
      this.served.set(uuid, {
        ...(back ?? identity),
        rolledBack: back !== undefined,
        storedDocument,
        storedRelease: identity,
      });
    }
    return { ...stored, apps };
  }

  /** Images of the last confirmed releases: clean-up keeps them until a successor is confirmed. */
  protectedImages(): string[] {
    return [...this.confirmed.values()].flatMap((r) => [...r.images]);
  }

  /** Per app uuid, for the status and the cloud report. */
  view(): ReadonlyMap<string, ReleaseCheckView> {
    const out = new Map<string, ReleaseCheckView>();
    const uuids = new Set([
      ...this.failed.keys(),
      ...this.watching.keys(),
      ...this.confirmed.keys(),
    ]);
    for (const uuid of uuids) {
      const view: ReleaseCheckView = {};
      const failed = this.failed.get(uuid);
      const served = this.served.get(uuid);
      if (failed !== undefined && served?.storedRelease.docHash === failed.docHash)
        view.failed = {
          commit: failed.commit,
          reason: failed.reason,
          service: failed.service,
          cause: failed.cause,
          at: failed.at,
          rolledBackTo: served.rolledBack ? served.commit : undefined,
          images: imagesOf(served.storedDocument),
        };
      const watch = this.watching.get(uuid);
      if (watch !== undefined) view.watching = { commit: watch.commit, until: watch.deadline };
      const confirmed = this.confirmed.get(uuid);
      if (confirmed !== undefined)
        view.confirmed = { commit: confirmed.commit, images: imagesOf(confirmed.document) };
      out.set(uuid, view);
    }
    return out;
  }

  /**
   * One observation of a round, with the target it was planned for and the plan. Synchronous (it runs
   * inside the round); what it decides is written to the store in order, in the background.
   */
  observed(target: TargetState, current: CurrentState, plan: Plan): void {
    if (!this.settings.enabled) return;
    const now = this.deps.clock.now();
    for (const app of Object.values(target.apps)) {
      const served = this.served.get(app.uuid);
      if (app.source !== 'cloud' || served === undefined) continue;
      if (app.release?.commit !== served.commit) continue; // a newer target is being loaded
      if (this.confirmed.get(app.uuid)?.docHash === served.docHash) {
        this.dropWatch(app.uuid);
        continue;
      }
      if (this.failed.get(app.uuid)?.docHash === served.docHash) continue; // nothing to go back to
      let watch = this.watching.get(app.uuid);
      if (watch !== undefined && watch.docHash !== served.docHash) {
        this.dropWatch(app.uuid);
        watch = undefined;
      }
      if (watch === undefined) {
        if (!releaseApplied(app, current, plan)) continue;
        watch = this.startWatch(app.uuid, served, now);
      }
      const judgement = judge(watch, app, current, now);
      if (judgement.kind === 'watching') {
        this.watching.set(app.uuid, judgement.watch);
        const updated = judgement.watch;
        if (judgement.changed) this.persist('update watch', (repo) => repo.watch(updated));
      } else if (judgement.kind === 'confirmed') {
        this.confirm(app, served, now);
      } else {
        this.fail({ ...watch, ...judgement.failure, at: now }, app.name);
      }
    }
  }

  private startWatch(appUuid: string, served: Served, now: number): WatchedReleaseRecord {
    const watch: WatchedReleaseRecord = {
      appUuid,
      commit: served.commit,
      docHash: served.docHash,
      startedAt: now,
      deadline: now + this.settings.windowMs,
      restarts: {},
      exits: {},
    };
    this.watching.set(appUuid, watch);
    this.persist('start watch', (repo) => repo.watch(watch));
    this.log.info('release.watching', {
      app: appUuid,
      commit: served.commit,
      until: new Date(watch.deadline).toISOString(),
    });
    this.armTimer();
    return watch;
  }

  private confirm(app: TargetState['apps'][string], served: Served, now: number): void {
    const record: ConfirmedReleaseRecord = {
      appUuid: app.uuid,
      commit: served.commit,
      docHash: served.docHash,
      document: served.storedDocument,
      images: Object.values(app.release?.services ?? {}).map((s) => s.image),
      at: now,
    };
    this.confirmed.set(app.uuid, record);
    this.watching.delete(app.uuid);
    this.failed.delete(app.uuid);
    this.persist('confirm', (repo) => repo.confirm(record));
    this.log.info('release.confirmed', { app: app.uuid, commit: served.commit });
    this.deps.announce(`Release ${served.commit} of ${app.name} confirmed healthy`);
    this.armTimer();
  }

  private fail(record: FailedReleaseRecord, appName: string): void {
    this.failed.set(record.appUuid, record);
    this.watching.delete(record.appUuid);
    const back = this.confirmed.get(record.appUuid);
    const outcome =
      back === undefined
        ? 'no earlier release was confirmed on this device, so it stays'
        : `rolling back to release ${back.commit}`;
    this.log.error('release.failed', {
      app: record.appUuid,
      commit: record.commit,
      cause: record.cause,
      service: record.service,
      reason: record.reason,
      rollbackTo: back?.commit,
    });
    this.deps.announce(
      `Release ${record.commit} of ${appName} failed its confirmation window (${record.reason}); ${outcome}`,
    );
    // Written before the reload reads it back; the in-memory verdict is what the reload uses.
    this.persist('fail', (repo) => repo.fail(record));
    void this.writes.then(() => this.reload());
    this.armTimer();
  }

  private dropWatch(appUuid: string): void {
    if (!this.watching.delete(appUuid)) return;
    this.persist('drop watch', (repo) => repo.forget(appUuid, ['watching']));
  }

  /** One timer, for the nearest window end: a round then confirms (or fails) the release. */
  private armTimer(): void {
    this.timer?.abort();
    this.timer = undefined;
    const deadlines = [...this.watching.values()].map((w) => w.deadline);
    if (deadlines.length === 0) return;
    const controller = new AbortController();
    this.timer = controller;
    const wait = Math.max(0, Math.min(...deadlines) - this.deps.clock.now());
    this.deps.clock.sleep(wait, controller.signal).then(
      () => {
        if (this.timer === controller) this.timer = undefined;
        this.reload();
      },
      () => undefined,
    );
  }

  /** Stops the timer (agent shutdown) and waits for the writes in flight. */
  async stop(): Promise<void> {
    this.timer?.abort();
    this.timer = undefined;
    await this.writes;
  }

  private persist(what: string, write: (repo: ReleaseGuardRepository) => Promise<void>): void {
    this.writes = this.writes
      .then(() => write(this.deps.repository))
      .catch((err: unknown) => this.log.error('release.store-failed', { what, err }));
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The raw v3 app document's release: its only `releases` entry. */
function releaseOf(doc: JsonObject): [string, JsonObject] | undefined {
  const releases = doc['releases'];
  if (!isObject(releases)) return undefined;
  const entry = Object.entries(releases)[0];
  return entry !== undefined && isObject(entry[1]) ? [entry[0], entry[1]] : undefined;
}

function commitOf(doc: JsonObject): string | undefined {
  return releaseOf(doc)?.[0];
}

function imagesOf(doc: JsonObject): Record<string, string> {
  const services = releaseOf(doc)?.[1]['services'];
  const out: Record<string, string> = {};
  if (!isObject(services)) return out;
  for (const [name, service] of Object.entries(services))
    if (isObject(service) && typeof service['image'] === 'string') out[name] = service['image'];
  return out;
}

/** Stored documents are JSON text read back, so their key order is stable. */
function hashOf(doc: JsonObject): string {
  return nodeCrypto().createHash('sha256').update(JSON.stringify(doc)).digest('hex');
}
