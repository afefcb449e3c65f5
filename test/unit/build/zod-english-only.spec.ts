/**
 * scripts/build-plugins.mjs's zodEnglishOnly: zod bundled with it has English as its only locale, and
 * says exactly what zod says unbundled (all locales, English by default).
 */
import assert from 'node:assert/strict';
import { build, type Plugin } from 'esbuild';
import { z } from 'zod';
import { zodEnglishOnly } from '../../../scripts/build-plugins.mjs';

interface Probe {
  classicLocales: string[];
  coreLocales: string[];
  sameEnglish: boolean;
  messages: string[];
  messagesAfterConfig: string[];
}

// Runs in the bundle, and here against zod from node_modules.
const PROBE = `
const schema = z.object({ name: z.string(), port: z.number().int().min(1), mode: z.enum(['a', 'b']) });
const input = { name: 5, port: 0.5, mode: 'c', extra: [] };
const messagesOf = () => schema.safeParse(input).error.issues.map((i) => i.path.join('.') + ': ' + i.message);
const messages = messagesOf();
z.config(z.locales.en());
export const probe = {
  classicLocales: Object.keys(z.locales),
  coreLocales: Object.keys(z.core.locales),
  sameEnglish: z.locales.en === z.core.locales.en,
  messages,
  messagesAfterConfig: messagesOf(),
};
`;

async function bundled(plugins: Plugin[]): Promise<{ probe: Probe; bytes: number }> {
  const result = await build({
    stdin: { contents: `import { z } from 'zod';\n${PROBE}`, resolveDir: process.cwd() },
    bundle: true,
    platform: 'node',
    format: 'esm',
    write: false,
    minify: true,
    plugins,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.text;
  const url = `data:text/javascript;base64,${Buffer.from(code).toString('base64')}`;
  const module = (await import(url)) as { probe: Probe };
  return { probe: module.probe, bytes: code.length };
}

describe('build: zod with English only (scripts/build-plugins.mjs zodEnglishOnly)', function () {
  this.timeout(60_000);

  it('keeps z.locales.en (the same in core) and drops the other locales', async () => {
    const full = await bundled([]);
    const english = await bundled([zodEnglishOnly]);
    assert.ok(full.probe.classicLocales.includes('de'), 'the unplugged bundle has them all');
    assert.deepEqual(english.probe.classicLocales, ['en']);
    assert.deepEqual(english.probe.coreLocales, ['en']);
    assert.equal(english.probe.sameEnglish, true);
    assert.ok(
      full.bytes - english.bytes > 150_000,
      `only ${full.bytes - english.bytes} bytes less`,
    );
  });

  it('gives the same messages as zod unbundled, before and after z.config(z.locales.en())', async () => {
    const { probe } = await bundled([zodEnglishOnly]);
    const schema = z.object({
      name: z.string(),
      port: z.number().int().min(1),
      mode: z.enum(['a', 'b']),
    });
    const expected = schema
      .safeParse({ name: 5, port: 0.5, mode: 'c', extra: [] })
      .error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    assert.match(expected.join('\n'), /name: Invalid input: expected string, received number/);
    assert.deepEqual(probe.messages, expected);
    assert.deepEqual(probe.messagesAfterConfig, expected);
  });
});
