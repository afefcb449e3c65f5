// Bench-only probe, loaded into the agent by bench/soak.ts with `--probe` (NODE_OPTIONS=--import ...);
// never part of the bundle or bin/bosun. Every 10 s it appends the process's own view of its memory
// (V8 heap used/total, external, array buffers) to the file named by BOSUN_SOAK_PROBE_FILE, so the
// soak can split RSS into V8 heap and the rest (malloc, SQLite page cache, code) without a debugger.
import { appendFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

const file = process.env.BOSUN_SOAK_PROBE_FILE;
if (file) {
  const mib = (n) => Math.round((n / 1048576) * 100) / 100;
  const write = () => {
    const m = process.memoryUsage();
    const spaces = Object.fromEntries(
      getHeapSpaceStatistics().map((s) => [s.space_name, mib(s.space_used_size)]),
    );
    appendFileSync(
      file,
      JSON.stringify({
        at: Date.now(),
        rss: mib(m.rss),
        heapTotal: mib(m.heapTotal),
        heapUsed: mib(m.heapUsed),
        external: mib(m.external),
        arrayBuffers: mib(m.arrayBuffers),
        spaces,
      }) + '\n',
    );
  };
  setInterval(write, 10_000).unref();
}
