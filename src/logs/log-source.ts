/**
 * What log capture needs from the container engine. The engine adapter's EngineAdapter satisfies it as
 * it is (main.ts passes the engine in); the narrow port keeps logs/ from importing engine/.
 */
import type { EventFeed } from '../shared/event-feed.js';

export interface LogSourceContainer {
  id: string;
  name: string;
  /** The image reference the container was created from. */
  image: string;
  /**
   * The engine image id (`sha256:…`): system lines name a service's image by it
   * (docs/protocol.md#image-identity).
   */
  imageId?: string;
  labels: Record<string, string>;
  env: string[];
  state: string;
}

export interface LogSourceLine {
  stream: 'stdout' | 'stderr';
  line: string;
  /** RFC 3339 with nanoseconds. */
  timestamp: string;
}

export type LogSourceEvent =
  | {
      type: 'container';
      action: string;
      id: string;
      labels: Record<string, string>;
      /** `die` events: the exit status. */
      exitCode?: number;
    }
  | { type: 'image' | 'network' | 'volume' | 'reconnected' | 'disconnected' };

export interface LogSource {
  listContainers(filter?: { labels?: string[] }): Promise<LogSourceContainer[]>;
  inspectContainer(id: string): Promise<LogSourceContainer>;
  containerLogs(
    id: string,
    options?: { since?: string; follow?: boolean; signal?: AbortSignal },
  ): AsyncIterable<LogSourceLine>;
  events(): EventFeed<LogSourceEvent>;
}
