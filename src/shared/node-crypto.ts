/**
 * node:crypto, loaded when first called. A static `import … from 'node:crypto'` in the bundle loads
 * the ES module form of it while the agent starts: all of Node's crypto internals plus Web Crypto
 * (its namespace reads every export, `webcrypto` and `subtle` among them), ~1.3 MiB of resident memory
 * in an agent that, once its device is set up, hashes only when a target, a key or a release verdict
 * asks (BENCHMARKS.md, "Footprint aims (issue 16)"). `process.getBuiltinModule` (Node ≥ 20.16) returns
 * the CommonJS form, which leaves Web Crypto unloaded, and only when a caller needs it.
 * A lint rule (eslint.config.js) keeps src/ on this path.
 */
import type * as Crypto from 'node:crypto';

export function nodeCrypto(): typeof Crypto {
  return process.getBuiltinModule('node:crypto');
}
