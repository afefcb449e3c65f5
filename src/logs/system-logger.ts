/**
 * The SystemLogger port: how the reconciler (and capture) tell the user what bosun did, as system lines
 * in the same stream as container output. Texts are balena-supervisor's
 * (docs/protocol.md#system-log-messages) because users and tools read them:
 * `<text>[ '<object>'][ due to '<error>']`, where a service's object is `<serviceName> <image>`.
 */
import { errorMessage } from '../shared/errors.js';
import type { LogSink } from './log-sink.js';

export const SYSTEM_EVENT_TEXT = {
  serviceInstall: 'Installing service',
  serviceInstalled: 'Installed service',
  serviceInstallError: 'Failed to install service',
  serviceStart: 'Starting service',
  serviceStarted: 'Started service',
  serviceStartError: 'Failed to start service',
  serviceKill: 'Killing service',
  serviceStop: 'Killed service',
  serviceStopError: 'Failed to kill service',
  serviceAlreadyStopped: 'Service is already stopped, removing container',
  serviceAlreadyStoppedRemoved: 'Service is already stopped and the container removed',
  serviceExit: 'Service exited',
  serviceRestart: 'Restarting service',
  removeDeadService: 'Removing dead container',
  removeDeadServiceError: 'Error removing dead container',
  imageDownload: 'Downloading image',
  deltaImageDownload: 'Downloading delta for image',
  imageDownloaded: 'Downloaded image',
  imageDownloadError: 'Failed to download image',
  deltaStillProcessing: 'Delta still processing remotely. Will retry...',
  imageRemoval: 'Deleting image',
  imageRemoved: 'Deleted image',
  imageRemovalError: 'Failed to delete image',
  volumeCreate: 'Creating volume',
  volumeCreateError: 'Error creating volume',
  volumeRemove: 'Removing volume',
  volumeRemoveError: 'Error removing volume',
  networkCreate: 'Creating network',
  networkCreateError: 'Error creating network',
  networkRemove: 'Removing network',
  networkRemoveError: 'Error removing network',
  takeLock: 'Taking update locks',
  releaseLock: 'Releasing update locks',
} as const;

export type SystemEvent = keyof typeof SYSTEM_EVENT_TEXT;

/** What an event is about: a service (shown with its image), or an image, network or volume by name. */
export type SystemEventSubject = { serviceName: string; image: string } | { name: string };

export interface SystemLogger {
  event(event: SystemEvent, subject?: SystemEventSubject, error?: unknown): void;
  /** Free-form system line (`Supervisor starting`, `Applying configuration change {...}`, …). */
  message(text: string, options?: { isStdErr?: boolean }): void;
}

export function formatSystemEvent(
  event: SystemEvent,
  subject?: SystemEventSubject,
  error?: unknown,
): string {
  let text: string = SYSTEM_EVENT_TEXT[event];
  if (subject !== undefined)
    text += ` '${'serviceName' in subject ? `${subject.serviceName} ${subject.image}` : subject.name}'`;
  if (error !== undefined) text += ` due to '${errorMessage(error)}'`;
  return text;
}

export class SinkSystemLogger implements SystemLogger {
  constructor(
    private readonly sink: LogSink,
    private readonly now: () => number,
  ) {}

  event(event: SystemEvent, subject?: SystemEventSubject, error?: unknown): void {
    this.publish(formatSystemEvent(event, subject, error), error !== undefined);
  }

  message(text: string, options: { isStdErr?: boolean } = {}): void {
    this.publish(text, options.isStdErr === true);
  }

  private publish(message: string, isStdErr: boolean): void {
    this.sink.publish({
      message,
      timestamp: this.now(),
      isSystem: true,
      ...(isStdErr ? { isStdErr: true } : {}),
    });
  }
}
