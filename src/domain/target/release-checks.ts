/**
 * Cross-field rules of a release that no single field can check: every name a service refers to exists,
 * dependencies have no cycle, and network settings the engine would refuse at create time are refused
 * here instead (docs/protocol.md#service-networks).
 */
import type { IssueCollector } from '../issues.js';
import type { ValidatedRelease } from './validated.js';

const BUILTIN_MODES = new Set(['host', 'bridge', 'none']);

/** Services a service must wait for: `depends_on` plus the one whose network namespace it shares. */
export function serviceDependencies(release: ValidatedRelease, serviceName: string): string[] {
  const compose = release.services[serviceName]?.compose;
  if (compose === undefined) return [];
  const deps = Object.keys(compose.depends_on ?? {});
  const mode = compose.network_mode;
  if (mode?.startsWith('service:')) deps.push(mode.slice('service:'.length));
  return deps;
}

export function checkRelease(release: ValidatedRelease, issues: IssueCollector): void {
  for (const [name, service] of Object.entries(release.services)) {
    const at = issues.at('services', name, 'composition');
    const compose = service.compose;
    for (const dep of Object.keys(compose.depends_on ?? {})) {
      if (!Object.hasOwn(release.services, dep))
        at.issue(
          ['depends_on', dep],
          `depends on "${dep}", which is not a service of this release`,
        );
      else if (dep === name) at.issue(['depends_on', dep], 'a service cannot depend on itself');
    }
    const mode = compose.network_mode;
    if (mode?.startsWith('service:')) {
      const other = mode.slice('service:'.length);
      if (!Object.hasOwn(release.services, other))
        at.issue(
          ['network_mode'],
          `uses the network of "${other}", which is not a service of this release`,
        );
      else if (other === name)
        at.issue(['network_mode'], 'a service cannot share its own network namespace');
    } else if (
      mode !== undefined &&
      !BUILTIN_MODES.has(mode) &&
      mode !== 'default' &&
      !Object.hasOwn(release.networks, mode)
    ) {
      at.issue(['network_mode'], `network "${mode}" is not declared in the release's networks`);
    }
    if (mode?.startsWith('service:')) {
      // The engine refuses these with a container:<id> network mode ("conflicting options").
      for (const key of [
        'hostname',
        'dns',
        'dns_search',
        'dns_opt',
        'extra_hosts',
        'mac_address',
        'ports',
      ] as const) {
        if (compose[key] !== undefined)
          at.issue([key], `cannot be combined with network_mode "${mode}" (the engine refuses it)`);
      }
    }
    const sharesNamespace =
      mode === 'host' || mode === 'none' || mode?.startsWith('service:') === true;
    if (sharesNamespace && (compose.networks?.length ?? 0) > 0) {
      at.issue(
        ['networks'],
        `cannot join networks with network_mode "${mode}" (the engine refuses it)`,
      );
    }
    for (const network of compose.networks ?? []) {
      if (network.name !== 'default' && !Object.hasOwn(release.networks, network.name)) {
        at.issue(
          ['networks', network.name],
          `network "${network.name}" is not declared in the release's networks`,
        );
      }
    }
    (compose.volumes ?? []).forEach((volume, index) => {
      const source =
        volume.kind === 'named'
          ? volume.name
          : volume.kind === 'mount' && volume.type === 'volume'
            ? volume.source
            : undefined;
      if (source !== undefined && !Object.hasOwn(release.volumes, source)) {
        at.issue(['volumes', index], `volume "${source}" is not declared in the release's volumes`);
      }
    });
  }
  for (const cycle of findCycles(release)) {
    issues.issue(
      ['services', cycle[0]!, 'composition', 'depends_on'],
      `dependency cycle: ${cycle.join(' → ')}`,
    );
  }
}

/** Each cycle once, as the list of services around it (first repeated at the end). */
function findCycles(release: ValidatedRelease): string[][] {
  const state = new Map<string, 'visiting' | 'done'>();
  const cycles: string[][] = [];
  const stack: string[] = [];
  const visit = (name: string): void => {
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of serviceDependencies(release, name)) {
      if (!Object.hasOwn(release.services, dep) || dep === name) continue; // reported above
      const seen = state.get(dep);
      if (seen === 'visiting') cycles.push([...stack.slice(stack.indexOf(dep)), dep]);
      else if (seen === undefined) visit(dep);
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of Object.keys(release.services).sort()) if (!state.has(name)) visit(name);
  return cycles;
}
