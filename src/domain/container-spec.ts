/**
 * Engine-facing create specs, produced by pure normalisation (domain) and consumed by the engine port.
 * They mirror the Docker Engine API create bodies (so any Docker-compatible engine accepts them), typed
 * here so that domain/ does not depend on dockerode.
 */

export interface MountSpec {
  Type: 'bind' | 'volume' | 'tmpfs';
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  BindOptions?: { Propagation?: string };
  VolumeOptions?: { NoCopy?: boolean };
  TmpfsOptions?: { SizeBytes?: number };
}

export interface HealthcheckSpec {
  Test: string[];
  Interval?: number;
  Timeout?: number;
  Retries?: number;
  StartPeriod?: number;
}

export interface EndpointSpec {
  Aliases?: string[];
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] };
}

/** Docker `POST /containers/create` body plus the container name. */
export interface ContainerCreateSpec {
  name: string;
  Image: string;
  Env: string[];
  Labels: Record<string, string>;
  Cmd?: string[];
  Entrypoint?: string[];
  Hostname?: string;
  Domainname?: string;
  User?: string;
  WorkingDir?: string;
  Tty: boolean;
  OpenStdin?: boolean;
  StopSignal?: string;
  StopTimeout?: number;
  Healthcheck?: HealthcheckSpec;
  ExposedPorts?: Record<string, Record<string, never>>;
  Volumes?: Record<string, Record<string, never>>;
  MacAddress?: string;
  HostConfig: {
    NetworkMode: string;
    Binds?: string[];
    Mounts?: MountSpec[];
    RestartPolicy: {
      Name: '' | 'no' | 'always' | 'on-failure' | 'unless-stopped';
      MaximumRetryCount?: number;
    };
    PortBindings?: Record<string, Array<{ HostIp?: string; HostPort?: string }>>;
    Privileged?: boolean;
    CapAdd?: string[];
    CapDrop?: string[];
    Devices?: Array<{ PathOnHost: string; PathInContainer: string; CgroupPermissions: string }>;
    DeviceRequests?: Array<{
      Driver?: string;
      Count?: number;
      DeviceIDs?: string[];
      Capabilities?: string[][];
      Options?: Record<string, string>;
    }>;
    Dns?: string[];
    DnsOptions?: string[];
    DnsSearch?: string[];
    ExtraHosts?: string[];
    GroupAdd?: string[];
    SecurityOpt?: string[];
    Tmpfs?: Record<string, string>;
    Sysctls?: Record<string, string>;
    Ulimits?: Array<{ Name: string; Soft: number; Hard: number }>;
    Memory?: number;
    MemoryReservation?: number;
    ShmSize?: number;
    CpuShares?: number;
    CpuQuota?: number;
    NanoCpus?: number;
    CpusetCpus?: string;
    OomKillDisable?: boolean;
    OomScoreAdj?: number;
    PidMode?: string;
    PidsLimit?: number;
    IpcMode?: string;
    UsernsMode?: string;
    CgroupParent?: string;
    ReadonlyRootfs?: boolean;
    Init?: boolean;
  };
  /** The main network at create time; further networks are connected after create. */
  NetworkingConfig?: { EndpointsConfig: Record<string, EndpointSpec> };
}

export interface NetworkCreateSpec {
  Name: string;
  Driver: string;
  Internal?: boolean;
  EnableIPv6?: boolean;
  ConfigOnly?: boolean;
  Options?: Record<string, string>;
  Labels: Record<string, string>;
  IPAM?: {
    Driver?: string;
    Config?: Array<{
      Subnet?: string;
      Gateway?: string;
      IPRange?: string;
      AuxiliaryAddresses?: Record<string, string>;
    }>;
    Options?: Record<string, string>;
  };
}

export interface VolumeCreateSpec {
  Name: string;
  Driver: string;
  DriverOpts?: Record<string, string>;
  Labels: Record<string, string>;
}
