/**
 * What the local dashboard (GET /dashboard) and `bosun status` show, already in plain words: both
 * render this one JSON document (GET /dashboard/state), so the page and the terminal say the same.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface DashboardServiceView {
  name: string;
  /** Status word (Running, Downloading, Stopped, …). */
  state: string;
  /** Engine container id (full; the page shows the first 12 characters). */
  containerId: string | undefined;
  image: string;
  /** none, starting, healthy, unhealthy. */
  health: string;
  restartCount: number;
  /** 0..100 while downloading. */
  downloadProgress: number | undefined;
  /** Why the service is not yet where the target wants it, in plain words; undefined when it is. */
  waiting: string | undefined;
  /** The last error of its work, while it still matters. */
  error: string | undefined;
}

export interface DashboardAppView {
  appId: number;
  name: string;
  commit: string | undefined;
  /** done, downloading, downloaded, applying changes, … */
  updateStatus: string;
  /** What holds the whole app back (an update lock), in plain words. */
  waiting: string | undefined;
  /** Health-gated rollback: a release that failed its window (and what runs), or one being watched. */
  release?: string | undefined;
  services: DashboardServiceView[];
}

export interface DashboardView {
  device: {
    name: string;
    uuid: string;
    deviceType: string;
    os: string;
    version: string;
    mode: 'local' | 'cloud';
    connectivity: string;
    ipAddresses: string[];
  };
  /** One sentence on the whole device: up to date, updating, waiting (and for what), failing. */
  summary: string;
  /** The steps of the current plan, in words, while an update runs; empty otherwise. */
  plan: string[];
  apps: DashboardAppView[];
  /** When this view was made (ISO 8601). */
  at: string;
}

/** What the API needs to serve the dashboard; made by the agent side and handed to createApi. */
export interface DashboardPort {
  view(): Promise<DashboardView>;
  /** NDJSON stream of every log line (services and system), like /v2/local/logs, in every mode. */
  logs(req: IncomingMessage, res: ServerResponse): void;
}
