// Loaded with `node --import` by bench/idle-rss.sh: on SIGUSR2 the process writes V8's heap statistics
// and the built-in modules it has loaded to $BOSUN_HEAP_PROBE_FILE as JSON. Bench-only: the agent knows
// nothing of it, and it loads only node:v8 and node:fs.
import { writeFileSync } from 'node:fs';
import v8 from 'node:v8';

const file = process.env.BOSUN_HEAP_PROBE_FILE;
if (file !== undefined)
  process.on('SIGUSR2', () => {
    writeFileSync(
      file,
      JSON.stringify({ heap: v8.getHeapStatistics(), modules: process.moduleLoadList }),
    );
  });
