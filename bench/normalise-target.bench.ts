/**
 * How long the reconciler's per-loop re-normalisation costs: a 10-service app with ports, volumes,
 * networks, healthchecks and feature labels. Reports mean µs per call for validate+normalise
 * (parseTargetDevice on the stored document) and normalise alone. Run: npx tsx bench/normalise-target.bench.ts
 */
import { validateTargetDevice } from '../src/domain/target/validate-target.js';
import { normaliseTarget } from '../src/domain/normalise-target.js';
import { parseTargetDevice } from '../src/domain/target/parse-target.js';
import type { NormaliseContext } from '../src/domain/context.js';

const ctx: NormaliseContext = {
  deviceUuid: 'dev',
  deviceName: 'bench',
  deviceType: 'genericx86-64-ext',
  deviceArch: 'amd64',
  osVersion: 'balenaOS 6',
  osBoardRev: undefined,
  hostname: 'bench-host',
  apiEndpoint: 'https://api.example',
  deviceApiKey: 'k',
  supervisorNetworkGateway: '10.114.104.1',
  listenPort: 48484,
  appApiKey: (a, s) => `${a}-${s}`,
  source: 'cloud',
  lockRoot: '/tmp/balena-supervisor',
  engineSocketPath: '/var/run/docker.sock',
  hostHasKernelModules: true,
  hostHasFirmware: true,
};

const services: Record<string, unknown> = {};
for (let i = 0; i < 10; i++) {
  services[`svc${i}`] = {
    id: i + 1,
    image_id: 100 + i,
    image: `registry.example/app/svc${i}@sha256:${'a'.repeat(64)}`,
    environment: Object.fromEntries(
      Array.from({ length: 10 }, (_, k) => [`VAR_${k}`, `value-${k}`]),
    ),
    labels: { 'io.balena.features.supervisor-api': '1', 'io.balena.update.strategy': 'hand-over' },
    composition: {
      restart: 'unless-stopped',
      ports: [`${8000 + i}:80`, '53:53/udp'],
      volumes: ['data:/data', '/cache'],
      networks: { backend: { aliases: [`s${i}.internal`] }, default: null },
      depends_on: i === 0 ? [] : ['svc0'],
      healthcheck: { test: ['CMD', 'true'], interval: '30s', retries: 3 },
      mem_limit: '256m',
      cap_add: ['NET_ADMIN'],
      command: 'node server.js --port 80',
      stop_grace_period: '30s',
    },
  };
}
const doc = {
  name: 'bench',
  config: {},
  apps: {
    appuuid: {
      id: 1,
      name: 'app',
      class: 'fleet',
      releases: { commit1: { id: 1, services, networks: { backend: {} }, volumes: { data: {} } } },
    },
  },
};

function measure(label: string, fn: () => unknown, iterations = 2000): void {
  for (let i = 0; i < 200; i++) fn(); // warm up
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < iterations; i++) fn();
  const cpu = process.cpuUsage(cpuStart);
  const wall = Number(process.hrtime.bigint() - start) / 1000 / iterations;
  // CPU time is the fairer number on a shared machine: wall time includes waiting for a core.
  const cpuMicros = (cpu.user + cpu.system) / iterations;
  console.log(
    `${label}: ${cpuMicros.toFixed(1)} µs CPU, ${wall.toFixed(1)} µs wall per call (10 services, ${iterations} runs)`,
  );
}

const validated = validateTargetDevice(doc).value;
// A fixed reference workload, so numbers from a loaded, shared machine can be compared across runs.
measure('baseline: JSON round trip of the document', () => JSON.parse(JSON.stringify(doc)));
measure('validate + normalise (parseTargetDevice)', () => parseTargetDevice(doc, ctx));
measure('validate only', () => validateTargetDevice(doc));
measure('normalise only (normaliseTarget)', () => normaliseTarget(validated, ctx));
