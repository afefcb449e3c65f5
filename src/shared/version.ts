/** bosun's version: the bundle (scripts/build.mjs) carries it; from source (tsx), package.json says. */
import { readFile } from 'node:fs/promises';

export async function readVersion(): Promise<string> {
  const built = process.env.BOSUN_BUILD_VERSION;
  if (built !== undefined) return built;
  const text = await readFile(new URL('../../package.json', import.meta.url), 'utf8');
  const pkg = JSON.parse(text) as { version: string };
  return pkg.version;
}
