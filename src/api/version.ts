/**
 * The version /v2/version reports. balena-cli gates local mode on the supervisor version it reads there
 * (≥ 7.21.4 for multicontainer local mode, ≥ 9.7.0 for livepush), but bosun's own version (0.x) would fail
 * both checks. We speak the device API of balena-supervisor 19 (reference digest of v19.0.5), so we report
 * that API level as the semver core and carry bosun's own version as build metadata, which semver ignores
 * when comparing: `19.0.5+bosun.0.1.0` passes the CLI's gates and still tells a human what is running.
 */
export const SUPERVISOR_API_LEVEL = '19.0.5';

export function cliCompatibleVersion(agentVersion: string): string {
  const build = agentVersion.replace(/[^0-9A-Za-z.-]/g, '-');
  return `${SUPERVISOR_API_LEVEL}+bosun.${build}`;
}
