// HTTP's rules for revalidation and content codings (RFC 9110), as latest applies them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { acceptsGzip, etagMatches } from './rendered-body.ts';

test('If-None-Match: a list, weak or strong alike, or *', () => {
  const etag = 'W/"abc.7"';
  assert.ok(etagMatches('W/"abc.7"', etag));
  assert.ok(etagMatches('"abc.7"', etag), 'weak comparison: W/ does not matter');
  assert.ok(etagMatches('"x", W/"abc.7" , "y"', etag));
  assert.ok(etagMatches('*', etag));
  assert.not.ok(etagMatches('W/"abc.70"', etag));
  assert.not.ok(etagMatches('', etag));
  assert.not.ok(etagMatches(undefined, etag));
});

test('Accept-Encoding: gzip named or through *, never with q=0', () => {
  for (const yes of ['gzip', 'gzip, deflate, br', 'br;q=1.0, gzip;q=0.5', 'x-gzip', '*', 'identity, *;q=0.1', 'GZIP'])
    assert.ok(acceptsGzip(yes), yes);
  for (const no of [undefined, '', 'identity', 'br, deflate', 'gzip;q=0', 'gzip;q=0.000', '*;q=0', 'gzip;q=0, *', 'gzip;q=x'])
    assert.not.ok(acceptsGzip(no), no);
});

test.run();
