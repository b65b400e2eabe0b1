/**
 * `POST /api/v1/readings`: the body streams to a temp file in the data folder (never held in
 * memory), counted against the size limit (413, nothing stored), then goes to bulk-upload.ts.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { ApiError } from '../http/api-error.ts';
import { ingestUpload, type UploadDeps } from './bulk-upload.ts';
import { requireRole } from '../http/auth.ts';
import { scopeOf } from '../access/principal.ts';

export interface UploadRouteDeps extends UploadDeps {
  spoolDir: string;
  maxUploadBytes: number;
  /** every upload that got past the role check, stored or refused */
  onUpload?(info: { accepted: number; duplicates: number; bytes: number; ms: number; error: Error | null }, request: FastifyRequest): void;
}

let nextUpload = 1;

export function registerUploadRoute(app: FastifyInstance, deps: UploadRouteDeps): void {
  // The body stays a stream: the handler spools it, so no size of file is held in memory.
  app.addContentTypeParser(['text/csv', 'application/csv'], (_request, payload, done) => done(null, payload));

  app.post('/api/v1/readings', { bodyLimit: Number.MAX_SAFE_INTEGER }, async (request, reply) => {
    requireRole(request, 'operator', 'upload readings');
    const started = performance.now();
    const body = request.body as IncomingMessage | undefined;
    if (!body || typeof (body as NodeJS.ReadableStream).pipe !== 'function') {
      throw new ApiError(415, 'unsupported_media_type', 'send the CSV with Content-Type: text/csv');
    }
    const declared = Number(request.headers['content-length'] ?? NaN);
    if (declared > deps.maxUploadBytes) {
      reply.header('connection', 'close');
      throw new ApiError(413, 'too_large', `the upload is ${declared} bytes; the limit is ${deps.maxUploadBytes}`);
    }
    await mkdir(deps.spoolDir, { recursive: true });
    const path = join(deps.spoolDir, `upload-${process.pid}-${nextUpload++}.csv`);
    let bytes = 0;
    try {
      const counter = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          bytes += chunk.length;
          if (bytes > deps.maxUploadBytes)
            cb(new ApiError(413, 'too_large', `the upload is over the limit of ${deps.maxUploadBytes} bytes; nothing was stored`));
          else cb(null, chunk);
        },
      });
      try {
        await pipeline(body, counter, createWriteStream(path));
      } catch (err) {
        if (err instanceof ApiError) {
          reply.header('connection', 'close');
          throw err;
        }
        throw new ApiError(400, 'upload_interrupted', `the upload did not arrive whole: ${(err as Error).message}`);
      }
      const answer = await ingestUpload(path, deps, scopeOf(request.principal));
      deps.onUpload?.({ ...answer, bytes, ms: performance.now() - started, error: null }, request);
      return answer;
    } catch (err) {
      deps.onUpload?.({ accepted: 0, duplicates: 0, bytes, ms: performance.now() - started, error: err as Error }, request);
      throw err;
    } finally {
      await rm(path, { force: true });
    }
  });
}
