/** A target after validation: every value checked and parsed, nothing device-specific injected yet. */
import type { ComposeService } from '../compose/compose-service.js';
import type { NetworkDefinition, VolumeDefinition } from '../compose/release-resources.js';
import type { AppClass } from '../model.js';
import type { TargetDeviceDoc } from './v3-schema.js';

export interface ValidatedService {
  serviceName: string;
  serviceId: number;
  imageId: number;
  /** Normalised image reference. */
  image: string;
  running: boolean;
  /** Top-level environment over the composition's. */
  environment: Record<string, string>;
  /** Top-level labels over the composition's (before io.resin.* aliasing and injection). */
  labels: Record<string, string>;
  compose: ComposeService;
}

export interface ValidatedRelease {
  commit: string;
  releaseId: number;
  services: Record<string, ValidatedService>;
  networks: Record<string, NetworkDefinition>;
  volumes: Record<string, VolumeDefinition>;
}

export interface ValidatedApp {
  uuid: string;
  appId: number;
  name: string;
  class: AppClass;
  isHost: boolean;
  release: ValidatedRelease | undefined;
}

export interface ValidatedTarget {
  name: string;
  config: Record<string, string>;
  apps: Record<string, ValidatedApp>;
  /** The v3 device document as validated (ids coerced to numbers): what the store keeps. */
  document: TargetDeviceDoc;
}
