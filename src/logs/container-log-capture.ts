/**
 * Captures the output of supervised containers into the LogSink. A container is attached when it starts
 * (engine event), when bosun finds it running at start-up, and whenever the engine event stream
 * reconnects (events may have been missed); it is detached when destroyed. Each attachment resumes from
 * the container's LogCursor, so container restarts, engine restarts and bosun restarts neither repeat
 * nor drop lines (see log-cursor.ts). When a stream ends while the container still runs (the engine
 * went away, or a restart raced the end of the old stream), capture re-attaches with capped backoff.
 */
import type { FeedSubscription } from '../shared/event-feed.js';
import type { Clock } from '../shared/clock.js';
import { nanosToMillis, parseEngineTimestamp } from '../shared/engine-timestamp.js';
import { isBosunError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { LogCursor, type LogCursorLimits } from './log-cursor.js';
import type { LogCursorStore } from './log-cursor-store.js';
import { serviceLogLevel, type ServiceLogLevel } from './log-level.js';
import type { LogSink } from './log-sink.js';
import type { LogSource, LogSourceContainer, LogSourceEvent, LogSourceLine } from './log-source.js';
import { formatSystemEvent, type SystemLogger } from './system-logger.js';

export const SUPERVISED_LABEL = 'io.balena.supervised';
/** How often a live stream's cursor is handed to the store (which writes it out debounced). */
const CURSOR_SAVE_INTERVAL_MS = 200;
/** Abort reason of a detach because the container was destroyed. */
const DESTROYED = 'destroyed';

export interface ContainerLogCaptureOptions {
  source: LogSource;
  sink: LogSink;
  cursors: LogCursorStore;
  clock: Clock;
  logger: Logger;
  /** Receives `Service exited` / `Restarting service` lines; optional so tests can leave it out. */
  systemLogger?: SystemLogger;
  /** First delay before re-attaching a stream that ended while its container runs; doubles to `maxRetryDelayMs`. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  cursorLimits?: LogCursorLimits;
  /**
   * Extra `key=value` labels a container must carry to be captured (as the observer's scope): empty in
   * production; agents sharing one engine in tests capture only their own containers.
   */
  scopeLabels?: readonly string[];
}

interface Attachment {
  abort: AbortController;
  done: Promise<void>;
}

export class ContainerLogCapture {
  private readonly attached = new Map<string, Attachment>();
  /** Containers that died while we watched: their next start is a restart. */
  private readonly exited = new Set<string>();
  /** Consecutive failed reads per container, so a stream that keeps failing backs off instead of spinning. */
  private readonly failures = new Map<string, number>();
  private readonly stopping = new AbortController();
  private events: FeedSubscription | undefined;
  private readonly logger: Logger;

  constructor(private readonly options: ContainerLogCaptureOptions) {
    this.logger = options.logger.child({ component: 'log-capture' });
  }

  /** Subscribes to engine events and attaches to every running supervised container. */
  async start(): Promise<void> {
    // The feed does not fail: a broken engine connection arrives as `disconnected`/`reconnected`.
    this.events = this.options.source.events().subscribe((event) => this.onEvent(event));
    await this.attachExisting(true);
  }

  /** Detaches everything and makes the cursors durable. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.events?.unsubscribe();
    for (const a of this.attached.values()) a.abort.abort();
    await Promise.allSettled([...this.attached.values()].map((a) => a.done));
    await this.options.cursors.flush();
  }

  /** Ids of containers whose output is being read now (for tests and status). */
  attachedIds(): string[] {
    return [...this.attached.keys()];
  }

  private onEvent(event: LogSourceEvent): void {
    if (event.type === 'reconnected') {
      void this.attachExisting(false);
      return;
    }
    if (event.type !== 'container' || !this.inScope(event.labels)) return;
    switch (event.action) {
      case 'start':
        void this.attach(event.id, this.exited.delete(event.id) ? 'serviceRestart' : undefined);
        return;
      case 'die':
        this.exited.add(event.id);
        void this.announce(event.id, 'serviceExit', event.exitCode);
        return;
      case 'destroy':
        this.detach(event.id);
        return;
      default:
        return;
    }
  }

  /**
   * Attaches to every running supervised container, and catches up on stopped ones we were reading
   * before (their last lines may have been written while bosun was down). Stopped containers we never
   * read are left alone: their whole history would flood the stream with old lines.
   */
  private inScope(labels: Record<string, string>): boolean {
    if (labels[SUPERVISED_LABEL] === undefined) return false;
    return (this.options.scopeLabels ?? []).every((pair) => {
      const at = pair.indexOf('=');
      return at < 0 ? labels[pair] !== undefined : labels[pair.slice(0, at)] === pair.slice(at + 1);
    });
  }

  private async attachExisting(pruneCursors: boolean): Promise<void> {
    let containers: LogSourceContainer[];
    try {
      containers = await this.options.source.listContainers({
        labels: [SUPERVISED_LABEL, ...(this.options.scopeLabels ?? [])],
      });
    } catch (err) {
      this.logger.warn('logs.capture-list-failed', { err });
      return;
    }
    if (pruneCursors) {
      const existing = new Set(containers.map((c) => c.id));
      for (const id of this.options.cursors.containerIds())
        if (!existing.has(id)) this.options.cursors.delete(id);
    }
    const wanted = containers.filter(
      (c) => c.state === 'running' || this.options.cursors.get(c.id) !== undefined,
    );
    // Not awaited: an attachment lasts as long as its container runs.
    for (const c of wanted) void this.attach(c.id);
  }

  /**
   * Reads the container's output from its cursor: following it while it runs, or just what is there
   * when it has already stopped (a container that lived and died between two events still gets read).
   */
  private async attach(id: string, announce?: 'serviceRestart'): Promise<void> {
    if (this.stopping.signal.aborted) return;
    if (this.attached.has(id)) {
      if (announce) void this.announce(id, announce);
      return;
    }
    // Claim the slot before awaiting so a concurrent start event cannot attach twice.
    const abort = new AbortController();
    let release!: () => void;
    const attachment: Attachment = { abort, done: new Promise<void>((r) => (release = r)) };
    this.attached.set(id, attachment);
    let reattach = false;
    try {
      const info = await this.options.source.inspectContainer(id);
      if (announce) this.systemEvent(announce, info);
      const level = serviceLogLevel(info.env);
      if (!this.inScope(info.labels) || level === 'none') return;
      await this.read(info, level, info.state === 'running', abort.signal);
      reattach = !abort.signal.aborted;
    } catch (err) {
      if (isBosunError(err, 'NOT_FOUND')) return;
      const failures = (this.failures.get(id) ?? 0) + 1;
      this.failures.set(id, failures);
      this.logger.warn('logs.capture-stream-failed', { containerId: id, failures, err });
      reattach = !abort.signal.aborted;
    } finally {
      this.attached.delete(id);
      release();
    }
    if (reattach) await this.reattachWhileRunning(id);
  }

  /**
   * The stream ended while we still wanted it. If the container runs (a restart raced the end of the old
   * stream) or the engine does not answer (it may be restarting), try again with backoff; a stopped
   * container is picked up by its next `start` event instead.
   */
  private async reattachWhileRunning(id: string): Promise<void> {
    const maxDelay = this.options.maxRetryDelayMs ?? 30_000;
    let delay = Math.min(
      (this.options.retryDelayMs ?? 250) * 2 ** (this.failures.get(id) ?? 0),
      maxDelay,
    );
    for (;;) {
      if (this.stopping.signal.aborted || this.attached.has(id)) return;
      let running: boolean;
      try {
        running = (await this.options.source.inspectContainer(id)).state === 'running';
      } catch (err) {
        if (isBosunError(err, 'NOT_FOUND')) {
          this.options.cursors.delete(id);
          return;
        }
        try {
          await this.options.clock.sleep(delay, this.stopping.signal);
        } catch {
          return;
        }
        delay = Math.min(delay * 2, maxDelay);
        continue;
      }
      if (!running) return;
      try {
        await this.options.clock.sleep(delay, this.stopping.signal);
      } catch {
        return;
      }
      return this.attach(id);
    }
  }

  private async read(
    info: LogSourceContainer,
    level: ServiceLogLevel,
    follow: boolean,
    signal: AbortSignal,
  ): Promise<void> {
    const cursors = this.options.cursors;
    const cursor = new LogCursor(cursors.get(info.id), this.options.cursorLimits);
    const context = messageContext(info);
    cursors.track?.(info.id, cursor);
    this.logger.debug('logs.capture-attached', { containerId: info.id, since: cursor.since });
    // The cursor only ever covers lines already published, so saving it less often than every line
    // can repeat lines after a crash, never lose them; a clean end saves the exact state.
    let savedAt = Number.NEGATIVE_INFINITY; // the first line saves at once
    const save = (): void => {
      const state = cursor.toState();
      if (state) cursors.set(info.id, state);
    };
    try {
      for await (const line of this.options.source.containerLogs(info.id, {
        since: cursor.since,
        follow,
        signal,
      })) {
        if (signal.aborted) return;
        this.failures.delete(info.id);
        if (!cursor.admit(line.timestamp, line.stream)) continue;
        this.publishLine(line, level, context);
        const now = this.options.clock.now();
        if (now - savedAt >= CURSOR_SAVE_INTERVAL_MS) {
          save();
          savedAt = now;
        }
      }
    } finally {
      // A destroyed container's cursor was deleted on purpose: do not bring it back.
      if (signal.reason !== DESTROYED) save();
    }
  }

  private publishLine(line: LogSourceLine, level: ServiceLogLevel, context: MessageContext): void {
    const isStdErr = line.stream === 'stderr';
    if (level !== 'all' && !isStdErr) return;
    this.options.sink.publish({
      message: line.line,
      timestamp: nanosToMillis(parseEngineTimestamp(line.timestamp)),
      isStdErr,
      ...context,
    });
  }

  private detach(id: string): void {
    this.attached.get(id)?.abort.abort(DESTROYED);
    this.exited.delete(id);
    this.failures.delete(id);
    this.options.cursors.delete(id);
  }

  private async announce(
    id: string,
    event: 'serviceExit' | 'serviceRestart',
    exitCode?: number,
  ): Promise<void> {
    if (this.options.systemLogger === undefined) return;
    try {
      this.systemEvent(event, await this.options.source.inspectContainer(id), exitCode);
    } catch (err) {
      this.logger.debug('logs.capture-inspect-failed', { containerId: id, err });
    }
  }

  private systemEvent(
    event: 'serviceExit' | 'serviceRestart',
    info: LogSourceContainer,
    exitCode?: number,
  ): void {
    const serviceName = info.labels['io.balena.service-name'];
    if (serviceName === undefined) return;
    // Named like every other service line: by engine image id when the engine gave it
    // (docs/protocol.md#image-identity).
    const subject = { serviceName, image: info.imageId ?? info.image };
    if (event === 'serviceExit' && exitCode !== undefined)
      // balena prints no code; users asked for it, so it follows balena's text as a suffix.
      this.options.systemLogger?.message(
        `${formatSystemEvent(event, subject)} with code ${exitCode}`,
      );
    else this.options.systemLogger?.event(event, subject);
  }
}

type MessageContext = { serviceId?: number; serviceName?: string; appUuid?: string };

function messageContext(info: LogSourceContainer): MessageContext {
  const serviceId = Number(info.labels['io.balena.service-id']);
  const serviceName = info.labels['io.balena.service-name'];
  const appUuid = info.labels['io.balena.app-uuid'];
  return {
    ...(Number.isInteger(serviceId) && serviceId > 0 ? { serviceId } : {}),
    ...(serviceName === undefined ? {} : { serviceName }),
    ...(appUuid === undefined ? {} : { appUuid }),
  };
}
