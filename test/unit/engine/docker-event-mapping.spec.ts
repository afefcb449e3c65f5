import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { parseEngineEvent } from '../../../src/engine/docker-event-mapping.js';
import { textLines } from '../../../src/engine/json-lines.js';

async function collect(chunks: Array<Buffer | string>): Promise<string[]> {
  const out: string[] = [];
  for await (const line of textLines(Readable.from(chunks))) out.push(line);
  return out;
}

describe('engine event stream parsing', function () {
  it('reassembles lines split across chunks, including a multi-byte character split in two', async function () {
    const text = Buffer.from('{"a":"é"}\n{"b":2}\n');
    const cut = text.indexOf(0xc3) + 1; // between the two bytes of é
    assert.deepEqual(
      await collect([text.subarray(0, cut), text.subarray(cut, 12), text.subarray(12)]),
      ['{"a":"é"}', '{"b":2}'],
    );
    assert.deepEqual(
      await collect(['{"c":3}']),
      ['{"c":3}'],
      'a last line without newline still counts',
    );
  });

  it('maps a container event: labels without the engine attributes, exit code as a number, exact nanoseconds', function () {
    const line =
      '{"Type":"container","Action":"die","Actor":{"ID":"abc","Attributes":{"exitCode":"137","image":"img:1","name":"web_1","io.balena.app-id":"7"}},' +
      '"time":1795786104,"timeNano":1795786104500410423}';
    const parsed = parseEngineEvent(line)!;
    assert.deepEqual(parsed.event, {
      type: 'container',
      action: 'die',
      id: 'abc',
      name: 'web_1',
      labels: { 'io.balena.app-id': '7' },
      time: 1795786104500,
      exitCode: 137,
    });
    assert.equal(parsed.timeNano, 1795786104500410423n, 'not rounded like a JSON number');
  });

  it('keeps the signal of kill events, maps network/image/volume events, and drops what bosun does not use', function () {
    const kill = parseEngineEvent(
      '{"Type":"container","Action":"kill","Actor":{"ID":"c","Attributes":{"signal":"15","name":"x"}},"timeNano":1}',
    )!;
    assert.equal(kill.event.type === 'container' && kill.event.signal, '15');
    const net = parseEngineEvent(
      '{"Type":"network","Action":"connect","Actor":{"ID":"n1","Attributes":{"container":"c"}},"timeNano":2}',
    )!;
    assert.deepEqual(net.event, { type: 'network', action: 'connect', id: 'n1', time: 0 });
    assert.equal(
      parseEngineEvent('{"Type":"daemon","Action":"reload","Actor":{"ID":"d"}}'),
      undefined,
    );
    assert.equal(parseEngineEvent('<html>proxy error</html>'), undefined);
    assert.equal(parseEngineEvent('{"Type":"container"}'), undefined);
  });
});
