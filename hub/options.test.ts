// Issue 4 point 1 (safe defaults, like Mosquitto 2): without credentials the hub listens only
// on loopback unless the operator passes the loudly named option. Options fail at start,
// naming the option.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isLoopback, resolveHubOptions } from './options.ts';

test('loopback addresses are accepted without any flag', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) {
    assert.is(resolveHubOptions({ host, dataDir: '/tmp/x' }).host, host);
    assert.ok(isLoopback(host), host);
  }
});

test('an address other machines can reach is refused, with a message that says what to do', () => {
  for (const host of ['0.0.0.0', '::', '192.168.1.10', 'hub.example.org']) {
    assert.throws(() => resolveHubOptions({ host, dataDir: '/tmp/x' }), /allow-anyone-on-the-network/);
  }
});

test('the explicit option lets the hub listen on any address', () => {
  assert.is(resolveHubOptions({ host: '0.0.0.0', dataDir: '/tmp/x', allowAnyoneOnTheNetwork: true }).host, '0.0.0.0');
});

test('a bad option fails at start and names the option', () => {
  assert.throws(() => resolveHubOptions({ tcpPort: 70000 }), /tcpPort/);
  assert.throws(() => resolveHubOptions({ storeMemoryLimit: 'lots' }), /storeMemoryLimit/);
  assert.throws(() => resolveHubOptions({ maxLineBytes: 10 }), /maxLineBytes/);
});

test.run();
