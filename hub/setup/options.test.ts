// Options fail at start, naming the option. Whether a networked hub may start (it needs an admin,
// or the loudly named option; docs/ADMIN.md "Access control") is decided once the store is open:
// test/access/network-default.test.ts.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isLoopback, resolveHubOptions } from './options.ts';

test('loopback addresses are accepted without any flag', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) {
    assert.is(resolveHubOptions({ host, dataDir: '/tmp/x' }).host, host);
    assert.ok(isLoopback(host), host);
  }
});

test('an address other machines can reach is not loopback; whether the hub may start there is decided at start, once the store says whether an admin exists', () => {
  for (const host of ['0.0.0.0', '::', '192.168.1.10', 'hub.example.org']) {
    assert.not.ok(isLoopback(host), host);
    assert.is(resolveHubOptions({ host, dataDir: '/tmp/x' }).host, host);
  }
});

test('the access options are checked: session lifetime, rate limit, connection caps', () => {
  assert.throws(() => resolveHubOptions({ sessionTtlMs: 0 }), /sessionTtlMs/);
  assert.throws(() => resolveHubOptions({ rateLimitPerMinute: -1 }), /rateLimitPerMinute/);
  assert.throws(() => resolveHubOptions({ maxConnectionsPerAddress: 0 }), /maxConnectionsPerAddress/);
  assert.throws(() => resolveHubOptions({ maxSensorConnections: 1.5 }), /maxSensorConnections/);
  assert.is(resolveHubOptions({ rateLimitPerMinute: 0 }).rateLimitPerMinute, 0);
});

test('a bad option fails at start and names the option', () => {
  assert.throws(() => resolveHubOptions({ tcpPort: 70000 }), /tcpPort/);
  assert.throws(() => resolveHubOptions({ storeMemoryLimit: 'lots' }), /storeMemoryLimit/);
  assert.throws(() => resolveHubOptions({ maxLineBytes: 10 }), /maxLineBytes/);
});

test.run();
