/**
 * The body of a write, decompressed within a bound: a small gzip or snappy body that would
 * expand past the limit (a "zip bomb") is refused with 413 once the limit is reached, never
 * expanded whole. The compressed body itself is bounded by the route's bodyLimit.
 */
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { uncompress } from 'snappy';
import { HubError } from '../hub-error.ts';

const gunzipAsync = promisify(gunzip);

/** Decodes a body sent with `Content-Encoding` `encoding` (identity or gzip), at most `maxBytes` decoded. */
export async function decodedBody(body: Buffer, encoding: string | undefined, maxBytes: number): Promise<Buffer> {
  const coding = (encoding ?? '').trim().toLowerCase();
  if (coding === '' || coding === 'identity') return body;
  if (coding !== 'gzip' && coding !== 'x-gzip')
    throw new HubError(
      'unsupported_encoding',
      `Content-Encoding "${coding.slice(0, 40)}" is not taken here; send the body as it is, or gzip`,
    );
  try {
    return await gunzipAsync(body, { maxOutputLength: maxBytes });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw new HubError('too_large', `the body is over ${maxBytes} bytes once decompressed; send it in smaller parts`);
    throw new HubError('bad_request', `the body is not valid gzip (${(err as Error).message.slice(0, 80)}); send it as it is, or gzip`);
  }
}

/**
 * A snappy block (Prometheus remote write) decoded, at most `maxBytes`: the block starts with
 * its decoded length, which is checked before anything is decoded.
 */
export async function snappyBody(body: Buffer, maxBytes: number): Promise<Buffer> {
  const length = snappyLength(body);
  if (length === null) throw new HubError('bad_request', 'the body is not a snappy block (its length header is malformed)');
  if (length > maxBytes) throw new HubError('too_large', `the body is ${length} bytes once decompressed; the limit is ${maxBytes}`);
  try {
    const out = (await uncompress(body, { asBuffer: true })) as Buffer;
    if (out.length !== length) throw new Error(`decoded ${out.length} bytes where the header says ${length}`);
    return out;
  } catch (err) {
    throw new HubError('bad_request', `the body is not valid snappy (${(err as Error).message.slice(0, 80)})`);
  }
}

/** The decoded length a snappy block announces (a little-endian base-128 varint of at most 32 bits), or null. */
export function snappyLength(block: Buffer): number | null {
  let length = 0;
  for (let i = 0; i < 5 && i < block.length; i++) {
    const b = block[i]!;
    length += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) return length <= 0xffffffff ? length : null;
  }
  return null;
}
