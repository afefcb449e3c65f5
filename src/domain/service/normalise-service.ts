/**
 * One validated service + device facts → ServiceTarget: the engine create body with everything the agent
 * injects (docs/protocol.md#service-definition, docs/protocol.md#injected-environment), its config hash, and
 * the facts the planner needs.
 */
import type { ComposeService } from '../compose/compose-service.js';
import { serviceConfigHash } from '../config-hash.js';
import type { ContainerCreateSpec } from '../container-spec.js';
import type { NormaliseContext } from '../context.js';
import type { IssueCollector } from '../issues.js';
import type { DependencyCondition, ServiceTarget } from '../model.js';
import { containerName } from '../names.js';
import { setOwn } from '../records.js';
import type { ValidatedService } from '../target/validated.js';
import { serviceEnvironment } from './environment.js';
import { featureEffects } from './features.js';
import { aliasResinLabels, serviceLabels } from './labels.js';
import { serviceMounts } from './mounts.js';
import { isHostNetworked, serviceNetworking } from './networking.js';
import { updatePolicy } from './update-policy.js';

export interface ServiceAppFacts {
  appId: number;
  appUuid: string;
  appName: string;
  releaseId: number;
  commit: string;
}

const DEFAULT_STOP_TIMEOUT_SEC = 10;

function portSettings(
  compose: ComposeService,
): Pick<ContainerCreateSpec, 'ExposedPorts'> &
  Pick<ContainerCreateSpec['HostConfig'], 'PortBindings'> {
  if (compose.ports === undefined || compose.ports.length === 0) return {};
  const exposed: Record<string, Record<string, never>> = {};
  const bindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of compose.ports) {
    const key = `${p.containerPort}/${p.protocol}`;
    exposed[key] = {};
    (bindings[key] ??= []).push({ HostIp: p.hostIp, HostPort: p.hostPort });
  }
  return { ExposedPorts: exposed, PortBindings: bindings };
}

function tmpfsRecord(entries: readonly string[] | undefined): Record<string, string> | undefined {
  if (entries === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    setOwn(out, colon < 0 ? entry : entry.slice(0, colon), colon < 0 ? '' : entry.slice(colon + 1));
  }
  return out;
}

/** Only the fields that are set, so the create body stays readable. */
function defined<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(fields).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}

export function normaliseService(
  service: ValidatedService,
  app: ServiceAppFacts,
  ctx: NormaliseContext,
  warnings: IssueCollector,
): ServiceTarget {
  const compose = service.compose;
  const userLabels = aliasResinLabels(service.labels);
  const hostNetworking = isHostNetworked(compose.network_mode);
  const features = featureEffects(
    { labels: userLabels, appId: app.appId, serviceName: service.serviceName, hostNetworking },
    ctx,
  );
  const networking = serviceNetworking({
    appUuid: app.appUuid,
    serviceName: service.serviceName,
    networkMode: compose.network_mode,
    networks: compose.networks ?? [],
    usesSupervisorApi: features.usesSupervisorApi,
  });
  const mounts = serviceMounts(compose.volumes ?? [], app.appId, service.serviceName, ctx.lockRoot);
  const env = serviceEnvironment(
    {
      appId: app.appId,
      appUuid: app.appUuid,
      appName: app.appName,
      serviceName: service.serviceName,
    },
    { user: service.environment, forced: features.env, fallbacks: features.envDefaults },
    ctx,
  );
  const labels = serviceLabels(service.labels, {
    appId: app.appId,
    appUuid: app.appUuid,
    serviceId: service.serviceId,
    serviceName: service.serviceName,
  });
  const policy = updatePolicy(userLabels, warnings);
  const stopTimeoutSec =
    compose.stop_grace_period === undefined
      ? DEFAULT_STOP_TIMEOUT_SEC
      : Math.ceil(compose.stop_grace_period / 1e9);
  const ports = portSettings(compose);
  const binds = [...mounts.binds, ...features.binds];
  const dockerMounts = [...mounts.mounts, ...features.mounts];
  const deviceRequests = features.deviceRequests;
  const workingDir =
    compose.working_dir?.length && compose.working_dir.length > 1
      ? compose.working_dir.replace(/\/+$/, '')
      : compose.working_dir;

  const spec: ContainerCreateSpec = {
    name: containerName(service.serviceName, service.imageId, app.releaseId, app.commit),
    Image: service.image,
    Env: env,
    Labels: labels,
    ...defined({
      Cmd: compose.command,
      Entrypoint: compose.entrypoint,
      // Host-networked services see the device's hostname unless they set their own
      // (docs/protocol.md#service-defaults).
      Hostname: compose.hostname ?? (hostNetworking ? ctx.hostname : undefined),
      Domainname: compose.domainname,
      User: compose.user,
      WorkingDir: workingDir,
      StopSignal: compose.stop_signal,
      Healthcheck: compose.healthcheck,
      ExposedPorts: ports.ExposedPorts,
      Volumes:
        mounts.anonymous.length > 0
          ? Object.fromEntries(mounts.anonymous.map((path) => [path, {}]))
          : undefined,
      MacAddress: compose.mac_address,
    }),
    Tty: compose.tty ?? true,
    StopTimeout: stopTimeoutSec,
    HostConfig: {
      NetworkMode: networking.networkMode,
      RestartPolicy: { Name: compose.restart, MaximumRetryCount: 0 },
      IpcMode: compose.ipc ?? 'shareable',
      ...defined({
        Binds: binds.length > 0 ? binds : undefined,
        Mounts: dockerMounts.length > 0 ? dockerMounts : undefined,
        PortBindings: ports.PortBindings,
        Privileged: compose.privileged,
        CapAdd: compose.cap_add,
        CapDrop: compose.cap_drop,
        Devices: compose.devices,
        DeviceRequests: deviceRequests.length > 0 ? deviceRequests : undefined,
        Dns: compose.dns,
        DnsOptions: compose.dns_opt,
        DnsSearch: compose.dns_search,
        ExtraHosts: compose.extra_hosts,
        GroupAdd: compose.group_add,
        SecurityOpt: compose.security_opt,
        Tmpfs: tmpfsRecord(compose.tmpfs),
        Sysctls: compose.sysctls,
        Ulimits:
          compose.ulimits === undefined
            ? undefined
            : Object.entries(compose.ulimits).map(([Name, l]) => ({
                Name,
                Soft: l.soft,
                Hard: l.hard,
              })),
        Memory: compose.mem_limit,
        MemoryReservation: compose.mem_reservation,
        ShmSize: compose.shm_size,
        CpuShares: compose.cpu_shares,
        CpuQuota: compose.cpu_quota,
        NanoCpus: compose.cpus,
        CpusetCpus: compose.cpuset,
        OomKillDisable: compose.oom_kill_disable,
        OomScoreAdj: compose.oom_score_adj,
        PidMode: compose.pid,
        PidsLimit: compose.pids_limit,
        UsernsMode: compose.userns_mode,
        CgroupParent: compose.cgroup_parent,
        ReadonlyRootfs: compose.read_only,
        Init: compose.init,
      }),
    },
    // Every endpoint, main one first (keyed by NetworkMode): the executor creates with the main one and
    // connects the rest right after, as engines before API 1.44 accept only one endpoint at create.
    ...(Object.keys(networking.endpoints).length === 0
      ? {}
      : { NetworkingConfig: { EndpointsConfig: networking.endpoints } }),
  };
  const configHash = serviceConfigHash(spec);

  const dependsOn: Record<string, DependencyCondition> = { ...compose.depends_on };
  if (compose.network_mode?.startsWith('service:')) {
    const other = compose.network_mode.slice('service:'.length);
    if (!Object.hasOwn(dependsOn, other)) setOwn(dependsOn, other, 'service_started');
  }

  return {
    serviceName: service.serviceName,
    serviceId: service.serviceId,
    imageId: service.imageId,
    image: service.image,
    running: service.running,
    dependsOn,
    ...policy,
    stopTimeoutSec,
    networkMode: networking.networkMode,
    networks: networking.networks,
    volumes: mounts.volumes,
    containerName: spec.name,
    configHash,
    createSpec: spec,
  };
}
