/** Engine names shared with balena-supervisor, so that its containers, networks and volumes are adopted. */

/** `<service>_<imageId>_<releaseId>_<commit>` (reference §6.1). */
export function containerName(
  serviceName: string,
  imageId: number,
  releaseId: number,
  commit: string,
): string {
  return `${serviceName}_${imageId}_${releaseId}_${commit}`;
}

/** `<appUuid>_<network>` (reference §7.5). */
export function networkEngineName(appUuid: string, network: string): string {
  return `${appUuid}_${network}`;
}

/** `<appId>_<volume>` (reference §7.4). */
export function volumeEngineName(appId: number, volume: string): string {
  return `${appId}_${volume}`;
}

/** Label values balena treats as true: `1`, `true`, `on` (reference §7.2). */
export function isTruthyLabel(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'on'].includes(value.trim().toLowerCase());
}
