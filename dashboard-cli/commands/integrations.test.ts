// `integrations` prints where each writer points at this hub (docs/INTEGRATIONS.md).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { integrationUrls } from './integrations.ts';

test('the URLs follow the hub URL, a path prefix behind a proxy included', () => {
  const urls = integrationUrls('https://proxy.lan/roomwatch/');
  assert.is(urls.prometheus_remote_write, 'https://proxy.lan/roomwatch/api/v1/write');
  assert.is(urls.influxdb_v1_write, 'https://proxy.lan/roomwatch/write?db=roomwatch&precision=ms');
  assert.is(urls.influxdb_v2, 'https://proxy.lan/roomwatch');
});

test.run();
