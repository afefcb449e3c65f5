/**
 * Child process for config-json.spec.ts, run as an unprivileged user: opens the config.json given in
 * argv[2] and prints the resulting error code and message as JSON (or {code: 'OK'}).
 */
import { ConfigJsonFile } from '../../src/config/config-json-file.js';
import { isBosunError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';

const path = process.argv[2];
if (!path) throw new Error('usage: config-open-probe.ts <config.json path>');
try {
  await ConfigJsonFile.open(path, silentLogger());
  process.stdout.write(JSON.stringify({ code: 'OK', message: '' }));
} catch (err) {
  process.stdout.write(
    JSON.stringify({ code: isBosunError(err) ? err.code : 'THROWN', message: String(err) }),
  );
}
