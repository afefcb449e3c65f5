import assert from 'node:assert/strict';
import { LocalLogBackend } from '../../../src/logs/local-log-backend.js';
import {
  MAX_MESSAGE_LENGTH,
  truncateMessage,
  type LogMessage,
} from '../../../src/logs/log-message.js';
import { formatSystemEvent, SinkSystemLogger } from '../../../src/logs/system-logger.js';
import { serviceLogLevel } from '../../../src/logs/log-level.js';

const line = (message: string, extra: Partial<LogMessage> = {}): LogMessage => ({
  message,
  timestamp: 1,
  ...extra,
});

describe('LocalLogBackend', () => {
  it('gives each reader every message as one NDJSON line, without appUuid', async () => {
    const backend = new LocalLogBackend();
    const a = backend.subscribe();
    const b = backend.subscribe();
    backend.publish(line('hi', { serviceName: 'web', serviceId: 1, appUuid: 'u1' }));
    const expected = ['{"message":"hi","timestamp":1,"serviceName":"web","serviceId":1}\n'];
    assert.deepEqual(await a.take(), expected);
    assert.deepEqual(await b.take(), expected);
  });

  it('drops what a slow reader cannot hold, counts it, and tells the reader once it catches up', async () => {
    const backend = new LocalLogBackend({ maxQueuedBytesPerReader: 200, now: () => 42 });
    const reader = backend.subscribe();
    for (let i = 0; i < 20; i++) backend.publish(line(`message number ${i}`));
    const first = (await reader.take())!;
    assert.ok(first.length > 1 && first.length < 20);
    const kept = first.length - 1;
    assert.deepEqual(JSON.parse(first[0]!), {
      message: `Warning: Suppressed ${20 - kept} message(s) due to high load`,
      timestamp: 42,
      isSystem: true,
      isStdErr: true,
    });
    assert.equal(JSON.parse(first[1]!).message, 'message number 0');
    assert.equal(reader.droppedCount, 20 - kept);
    backend.publish(line('after'));
    assert.deepEqual(await reader.take(), ['{"message":"after","timestamp":1}\n']);
  });

  it('forgets a reader when it closes, and a pending take resolves undefined', async () => {
    const backend = new LocalLogBackend();
    const reader = backend.subscribe();
    const pending = reader.take();
    assert.equal(backend.readerCount, 1);
    reader.close();
    assert.equal(await pending, undefined);
    assert.equal(backend.readerCount, 0);
  });
});

describe('truncateMessage', () => {
  it('cuts to the wire limit with a mark, and leaves shorter messages alone', () => {
    const cut = truncateMessage(line('x'.repeat(MAX_MESSAGE_LENGTH + 5)));
    assert.equal(cut.message.length, MAX_MESSAGE_LENGTH);
    assert.ok(cut.message.endsWith('x[...]'));
    const short = line('short');
    assert.equal(truncateMessage(short), short);
  });
});

describe('SystemLogger', () => {
  it('words events as balena-supervisor does (docs/protocol.md#system-log-messages)', () => {
    assert.equal(
      formatSystemEvent('serviceInstall', { serviceName: 'web', image: 'local_web' }),
      "Installing service 'web local_web'",
    );
    assert.equal(
      formatSystemEvent('serviceStop', { serviceName: 'web', image: 'local_web' }),
      "Killed service 'web local_web'",
    );
    assert.equal(
      formatSystemEvent('networkCreate', { name: 'default' }),
      "Creating network 'default'",
    );
    assert.equal(
      formatSystemEvent('imageDownloadError', { name: 'r/x:1' }, new Error('401')),
      "Failed to download image 'r/x:1' due to '401'",
    );
  });

  it('publishes system lines, marked stderr when an error is attached', () => {
    const out: LogMessage[] = [];
    const system = new SinkSystemLogger({ publish: (m) => out.push(m) }, () => 7);
    system.event('serviceStartError', { serviceName: 'w', image: 'i' }, new Error('boom'));
    system.message('Supervisor starting');
    assert.deepEqual(out, [
      {
        message: "Failed to start service 'w i' due to 'boom'",
        timestamp: 7,
        isSystem: true,
        isStdErr: true,
      },
      { message: 'Supervisor starting', timestamp: 7, isSystem: true },
    ]);
  });
});

describe('serviceLogLevel', () => {
  it('reads BALENA_LOGS_LEVEL, then RESIN_LOGS_LEVEL, defaulting to all', () => {
    assert.equal(serviceLogLevel(['BALENA_LOGS_LEVEL=none']), 'none');
    assert.equal(serviceLogLevel(['RESIN_LOGS_LEVEL=err']), 'error');
    assert.equal(serviceLogLevel(['BALENA_LOGS_LEVEL=Error', 'RESIN_LOGS_LEVEL=none']), 'error');
    assert.equal(serviceLogLevel(['BALENA_LOGS_LEVEL=verbose']), 'all');
    assert.equal(serviceLogLevel([]), 'all');
  });
});
