/**
 * Serving an answer rendered once for many requests (`latest`): its ETag, so a client that has
 * it gets 304 and no body, and its gzip copy for a client that accepts gzip. HTTP's own rules
 * (RFC 9110): If-None-Match compares weakly and may be `*`; Accept-Encoding has q-values, and
 * `q=0` refuses a coding.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RenderedLatest } from '../sensors/latest-view.ts';

export function sendRendered(request: FastifyRequest, reply: FastifyReply, body: RenderedLatest): FastifyReply {
  reply.header('etag', body.etag).header('vary', 'accept-encoding').type('application/json; charset=utf-8');
  if (etagMatches(request.headers['if-none-match'], body.etag)) return reply.code(304).send();
  const gzipped = acceptsGzip(request.headers['accept-encoding']) ? body.gzip() : null;
  if (gzipped) return reply.header('content-encoding', 'gzip').send(gzipped);
  return reply.send(body.json);
}

/** Whether an If-None-Match header names `etag` (weak comparison: W/ does not matter), or is `*`. */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  const want = opaque(etag);
  return header.split(',').some((tag) => tag.trim() === '*' || opaque(tag) === want);
}

/** Whether an Accept-Encoding header accepts gzip: named (or `x-gzip`), else through `*`, with q above 0. */
export function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  let gzip: number | null = null;
  let any: number | null = null;
  for (const part of header.split(',')) {
    const [coding = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const q = params.find((p) => p.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    if (coding === 'gzip' || coding === 'x-gzip') gzip = Math.max(gzip ?? 0, Number.isNaN(weight) ? 0 : weight);
    else if (coding === '*') any = Number.isNaN(weight) ? 0 : weight;
  }
  return (gzip ?? any ?? 0) > 0;
}
