import assert from 'node:assert/strict';
import { parsePortString } from '../../../src/domain/compose/ports.js';
import { parseDurationNs, parseMemoryBytes } from '../../../src/domain/compose/scalars.js';
import { splitShellWords } from '../../../src/domain/compose/shell-words.js';
import { normaliseImageName } from '../../../src/domain/image-name.js';

describe('domain: compose value parsers', () => {
  it('durations → nanoseconds', () => {
    assert.equal(parseDurationNs('30s'), 30e9);
    assert.equal(parseDurationNs('1m30s'), 90e9);
    assert.equal(parseDurationNs('1h'), 3600e9);
    assert.equal(parseDurationNs('1.5s'), 1.5e9);
    assert.equal(parseDurationNs('500ms'), 500e6);
    assert.equal(parseDurationNs('10us'), 10e3);
    for (const bad of ['', '30', 's', '1d', '30 s', '-1s'])
      assert.equal(parseDurationNs(bad), undefined, bad);
  });

  it('memory sizes are 1024-based, case-insensitive, with an optional trailing b', () => {
    assert.equal(parseMemoryBytes('256m'), 256 * 1024 ** 2);
    assert.equal(parseMemoryBytes('1G'), 1024 ** 3);
    assert.equal(parseMemoryBytes('64mb'), 64 * 1024 ** 2);
    assert.equal(parseMemoryBytes('512k'), 512 * 1024);
    assert.equal(parseMemoryBytes('1000'), 1000);
    assert.equal(parseMemoryBytes(4096), 4096);
    for (const bad of ['1.5g', '1t', 'lots', '', -1, 1.5])
      assert.equal(parseMemoryBytes(bad), undefined, String(bad));
  });

  it('ports: short syntax with ip, ranges and protocol', () => {
    assert.deepEqual(parsePortString('80'), [
      { containerPort: 80, protocol: 'tcp', hostIp: '', hostPort: '' },
    ]);
    assert.deepEqual(parsePortString('8080:80/udp'), [
      { containerPort: 80, protocol: 'udp', hostIp: '', hostPort: '8080' },
    ]);
    assert.deepEqual(parsePortString('127.0.0.1:8080:80'), [
      { containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: '8080' },
    ]);
    assert.deepEqual(parsePortString('127.0.0.1::80'), [
      { containerPort: 80, protocol: 'tcp', hostIp: '127.0.0.1', hostPort: '' },
    ]);
    assert.deepEqual(parsePortString('[::1]:8080:80'), [
      { containerPort: 80, protocol: 'tcp', hostIp: '::1', hostPort: '8080' },
    ]);
    assert.deepEqual(parsePortString('8000-8001:90-91'), [
      { containerPort: 90, protocol: 'tcp', hostIp: '', hostPort: '8000' },
      { containerPort: 91, protocol: 'tcp', hostIp: '', hostPort: '8001' },
    ]);
    for (const bad of ['0', '65536', '80-79', 'a:b', '1:2:3:4', '80/sctp', '8000-8002:80-81'])
      assert.equal(typeof parsePortString(bad), 'string', bad);
  });

  it('command strings split like a shell, without expansion', () => {
    assert.deepEqual(splitShellWords('sh -c "echo $HOME && sleep 1"'), [
      'sh',
      '-c',
      'echo $HOME && sleep 1',
    ]);
    assert.deepEqual(splitShellWords(`echo 'a b' c\\ d "e\\"f"`), ['echo', 'a b', 'c d', 'e"f']);
    assert.deepEqual(splitShellWords('  spaced   out  '), ['spaced', 'out']);
    assert.deepEqual(splitShellWords('empty ""'), ['empty', '']);
    assert.deepEqual(splitShellWords(''), []);
    assert.ok(!Array.isArray(splitShellWords("it's")));
    assert.ok(!Array.isArray(splitShellWords('trailing\\')));
  });

  it('image names: `:latest` added, digest wins over tag, registry kept', () => {
    const cases: Array<[string, string]> = [
      ['alpine', 'alpine:latest'],
      ['alpine:3.20', 'alpine:3.20'],
      ['library/alpine', 'library/alpine:latest'],
      ['localhost:5000/app', 'localhost:5000/app:latest'],
      ['127.0.0.1:5000/app:v1', '127.0.0.1:5000/app:v1'],
      ['registry.test/a/b:1@sha256:abcd', 'registry.test/a/b@sha256:abcd'],
      [
        'registry2.balenadev.io/v2/f2894dd331bcd52848caf7794634831f@sha256:0000',
        'registry2.balenadev.io/v2/f2894dd331bcd52848caf7794634831f@sha256:0000',
      ],
      ['local_web', 'local_web:latest'],
    ];
    for (const [input, expected] of cases) assert.equal(normaliseImageName(input), expected, input);
    for (const bad of ['', 'UPPER', 'a:b:c', 'a@nodigest', 'a/:tag', 'a:t@g'])
      assert.equal(typeof normaliseImageName(bad), 'object', bad);
  });
});
