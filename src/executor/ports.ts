/**
 * What the executor needs besides the engine, as narrow ports: main.ts wires the device lock adapter,
 * the store and config to them, so executor/ never imports another adapter.
 */
import type { RegistryAuth } from '../engine/port.js';

export interface LockPort {
  /** Creates the service's lock directory (bound into its containers) before a container is created. */
  prepare(appId: number, serviceName: string): Promise<string>;
  take(
    appId: number,
    services: readonly string[],
    options: { force: boolean; overrideServices?: readonly string[] },
  ): Promise<void>;
  release(appId: number): Promise<void>;
  /** Removes hand-over flags so a new hand-over waits for its own signal. */
  clearHandover(appId: number, serviceName: string): Promise<void>;
}

/** The store's record of which commit each app fully runs. */
export interface CommitStore {
  getCommits(): Promise<Record<string, string>>;
  setCommit(appUuid: string, commit: string): Promise<void>;
}

export interface RegistryAuthProvider {
  /** Credentials for pulling this image reference, or undefined for an anonymous pull. */
  authFor(image: string): RegistryAuth | undefined;
}

/** The store's record of images the agent pulled: only those are clean-up candidates. */
export interface PulledImageStore {
  record(image: {
    name: string;
    engineId: string;
    appUuid: string;
    serviceName: string;
    commit: string;
  }): Promise<void>;
  /** Forget every record of this reference or engine id (after the image was removed). */
  forget(name: string, engineId: string): Promise<void>;
  list(): Promise<Array<{ name: string; engineId: string | undefined }>>;
}
