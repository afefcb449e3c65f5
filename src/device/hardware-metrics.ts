/**
 * Hardware metrics for the cloud report (docs/protocol.md#hardware-metrics), read through systeminformation.
 * Each field is null when the host does not say (a VM without a temperature sensor, a container without
 * /data). Values in MiB and whole percent / °C, as the dashboard expects them. systeminformation is
 * loaded on the first reading (~320 KB of bundle): an idle agent that reports no metrics never holds it.
 */
import { readFile } from 'node:fs/promises';

export interface HardwareMetricsReading {
  cpu_usage: number | null;
  memory_usage: number | null;
  memory_total: number | null;
  storage_usage: number | null;
  storage_total: number | null;
  storage_block_device: string | null;
  cpu_temp: number | null;
  cpu_id: string | null;
}

const MIB = 1024 * 1024;
const SERIAL_FILES = [
  '/proc/device-tree/serial-number',
  '/proc/device-tree/product-sn',
  '/sys/devices/soc0/serial_number',
];

async function cpuId(): Promise<string | null> {
  for (const file of SERIAL_FILES) {
    try {
      // eslint-disable-next-line no-control-regex -- device-tree strings end in NUL bytes
      const text = (await readFile(file, 'utf8')).replace(/\u0000/g, '').trim();
      if (text !== '') return text.toLowerCase();
    } catch {
      // Not this board's file.
    }
  }
  return null;
}

function finite(value: number | undefined | null): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** One reading; never throws (a failing probe gives nulls for its fields). */
export async function readHardwareMetrics(): Promise<HardwareMetricsReading> {
  const { default: si } = await import('systeminformation');
  const [load, mem, disks, temp, id] = await Promise.all([
    si.currentLoad().catch(() => undefined),
    si.mem().catch(() => undefined),
    si.fsSize().catch(() => undefined),
    si.cpuTemperature().catch(() => undefined),
    cpuId(),
  ]);
  // The data partition (balenaOS mounts it under a path with /data), else the root file system.
  const data = disks?.find((d) => d.mount.includes('/data')) ?? disks?.find((d) => d.mount === '/');
  const device = data?.fs.startsWith('/dev/') ? data.fs : null;
  const onDevice =
    device === null
      ? data === undefined
        ? []
        : [data]
      : (disks ?? []).filter((d) => d.fs.startsWith(device));
  const used = onDevice.reduce((sum, d) => sum + d.used, 0);
  const cpuUsage = finite(load?.currentLoad);
  const temperature = finite(temp?.main);
  return {
    cpu_usage: cpuUsage === null ? null : Math.round(cpuUsage),
    memory_usage: mem === undefined ? null : Math.floor((mem.used - mem.buffcache) / MIB),
    memory_total: mem === undefined ? null : Math.floor(mem.total / MIB),
    storage_usage: data === undefined ? null : Math.floor(used / MIB),
    storage_total: data === undefined ? null : Math.floor(data.size / MIB),
    storage_block_device: device,
    cpu_temp: temperature === null ? null : Math.round(temperature),
    cpu_id: id,
  };
}
