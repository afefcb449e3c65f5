/**
 * The connectivity check (docs/protocol.md#connectivity): a TCP connect to the cloud API's host and port (the URL's
 * port, else 443 for https and 80 for http) every 10 s. Only a change of state is said, on the agent's
 * log and as a system log line (balena-supervisor prints the same two sentences on its console and
 * blinks the LED; a generic host has no LED to blink): `Waiting for connectivity...` when the address
 * stops answering, `Internet Connectivity: OK` when it answers again (also the first time it answers).
 *
 * SUPERVISOR_CONNECTIVITY_CHECK=false turns it off at run time (state `off`, treated as connected). Not
 * done: the pause while the VPN is up (bosun has no VPN integration yet; the check simply runs).
 *
 * Deliberate difference from upstream, for the device's link: while target polls succeed, they are the
 * proof of connectivity and no probe is sent. Upstream connects every 10 s regardless: ~8,640 TCP
 * handshakes and closes a day, about 3 MB of packet headers on a metered link, ten times bosun's whole
 * idle day. The probe runs only while polls fail (to tell "the cloud's address does not answer" from
 * "the cloud answers with errors", and to notice the return within 10 s: `onReconnect` then polls at
 * once instead of waiting out the backoff). Nothing is sent on a probe's connection: it is closed as
 * soon as it is established.
 */
import { connect } from 'node:net';
import type { Clock } from '../shared/clock.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { CloudSystemLog } from './ports.js';
import { WakeableSleep } from './wake-sleep.js';

export const CONNECTIVITY_CHECK_INTERVAL_MS = 10_000;
const CONNECT_TIMEOUT_MS = 5_000;

export type ConnectivityState = 'connected' | 'disconnected' | 'unknown' | 'off';

export interface ConnectivityCheckDeps {
  endpoint: string;
  /** SUPERVISOR_CONNECTIVITY_CHECK of the current target (read before every check). */
  enabled: () => boolean;
  systemLog: CloudSystemLog;
  clock: Clock;
  logger: Logger;
  intervalMs?: number;
  /** True while target polls succeed (they prove connectivity: no probe is needed then). */
  pollsSucceed: () => boolean;
  /** The cloud's address answers again after it did not: poll now rather than after the backoff. */
  onReconnect?: () => void;
}

/** host and port of the API's address, as the check connects to them. */
export function checkTarget(endpoint: string): { host: string; port: number } {
  const url = new URL(endpoint);
  const port = url.port !== '' ? Number(url.port) : url.protocol === 'http:' ? 80 : 443;
  // An IPv6 literal comes in brackets in a URL, without them to net.connect.
  return { host: url.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}

export function tcpAnswers(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export class ConnectivityCheck {
  private current: ConnectivityState = 'unknown';
  private readonly target: { host: string; port: number };
  private readonly log: Logger;
  private readonly waker: WakeableSleep;

  constructor(
    private readonly deps: ConnectivityCheckDeps,
    private readonly probe: (
      host: string,
      port: number,
      timeoutMs: number,
    ) => Promise<boolean> = tcpAnswers,
  ) {
    this.target = checkTarget(deps.endpoint);
    this.log = deps.logger.child({ component: 'connectivity' });
    this.waker = new WakeableSleep(deps.clock);
  }

  get state(): ConnectivityState {
    return this.current;
  }

  /** Checks now (a config var change, a test). */
  wake(): void {
    this.waker.wake();
  }

  async run(signal: AbortSignal): Promise<void> {
    for (;;) {
      await this.checkOnce();
      await this.waker.sleep(this.deps.intervalMs ?? CONNECTIVITY_CHECK_INTERVAL_MS, signal);
    }
  }

  async checkOnce(): Promise<ConnectivityState> {
    if (!this.deps.enabled()) {
      if (this.current !== 'off') this.log.info('connectivity.check-off', {});
      this.current = 'off';
      return this.current;
    }
    let connected: boolean;
    if (this.deps.pollsSucceed()) connected = true;
    else
      try {
        connected = await this.probe(this.target.host, this.target.port, CONNECT_TIMEOUT_MS);
      } catch (err) {
        this.log.debug('connectivity.probe-failed', { message: errorMessage(err) });
        connected = false;
      }
    const next = connected ? 'connected' : 'disconnected';
    if (next !== this.current) {
      const text = connected ? 'Internet Connectivity: OK' : 'Waiting for connectivity...';
      this.log.info(connected ? 'connectivity.ok' : 'connectivity.waiting', {
        host: this.target.host,
        port: this.target.port,
        message: text,
      });
      this.deps.systemLog.message(text);
      if (connected && this.current === 'disconnected') this.deps.onReconnect?.();
    }
    this.current = next;
    return next;
  }
}
