/** Engine names shared with balena-supervisor, so that its containers, networks and volumes are adopted. */

/** `<service>_<imageId>_<releaseId>_<commit>` (docs/protocol.md#container-naming). */
export function containerName(
  serviceName: string,
  imageId: number,
  releaseId: number,
  commit: string,
): string {
  return `${serviceName}_${imageId}_${releaseId}_${commit}`;
}

/** `<appUuid>_<network>` (docs/protocol.md#networks-and-volumes). */
export function networkEngineName(appUuid: string, network: string): string {
  return `${appUuid}_${network}`;
}

/** `<appId>_<volume>` (docs/protocol.md#volumes-and-binds). */
export function volumeEngineName(appId: number, volume: string): string {
  return `${appId}_${volume}`;
}

/** Label values balena treats as true: `1`, `true`, `on` (docs/protocol.md#labels). */
export function isTruthyLabel(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'on'].includes(value.trim().toLowerCase());
}
