/**
 * `POST /api/v1/readings`: the body streams to a spool file (upload-spool.ts; never held in
 * memory), counted against the size limit (413, nothing stored) and the body timeouts (408),
 * then goes to bulk-upload.ts.
 */
import { rm } from 'node:fs/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { HubError } from '../hub-error.ts';
import { statusOf } from './api-error.ts';
import { ingestUpload, type UploadDeps } from '../upload/bulk-upload.ts';
import { requireRole } from './auth.ts';
import { scopeOf } from '../access/principal.ts';
import { spoolBody, spoolPath } from '../upload/upload-spool.ts';

export interface UploadRouteDeps extends UploadDeps {
  spoolDir: string;
  maxUploadBytes: number;
  /** the whole body must have arrived within this */
  uploadBodyTimeoutMs: number;
  /** no gap between two chunks of a body may be longer than this */
  uploadIdleTimeoutMs: number;
  /** uploads taken at once; beyond, 429 (each holds a spool file up to maxUploadBytes and a store scan) */
  maxConcurrentUploads: number;
  /** every upload that got past the role check, stored or refused */
  onUpload?(info: { accepted: number; duplicates: number; bytes: number; ms: number; error: Error | null }, request: FastifyRequest): void;
}

/** Seconds a refused upload is told to wait: about what a large one takes. */
const RETRY_AFTER_S = 10;

export function registerUploadRoute(app: FastifyInstance, deps: UploadRouteDeps): void {
  let running = 0;
  // The body stays a stream: the handler spools it, so no size of file is held in memory.
  app.addContentTypeParser(['text/csv', 'application/csv'], (_request, payload, done) => done(null, payload));

  app.post('/api/v1/readings', { bodyLimit: Number.MAX_SAFE_INTEGER }, async (request, reply) => {
    requireRole(request, 'operator', 'upload readings');
    const started = performance.now();
    const body = request.body as IncomingMessage | undefined;
    if (!body || typeof (body as NodeJS.ReadableStream).pipe !== 'function') {
      throw new HubError('unsupported_media_type', 'send the CSV with Content-Type: text/csv');
    }
    // Refused before a byte is read: the body is left unread, so the connection cannot be reused.
    const refuseUnread = (err: HubError): never => {
      reply.header('connection', 'close');
      throw err;
    };
    const encoding = String(request.headers['content-encoding'] ?? '')
      .trim()
      .toLowerCase();
    if (encoding !== '' && encoding !== 'identity') {
      // RFC 9110 §15.5.16: 415 for an unsupported content coding, saying which are accepted.
      reply.header('accept-encoding', 'identity');
      refuseUnread(
        new HubError(
          'unsupported_encoding',
          `the hub takes uploads without Content-Encoding (got "${encoding.slice(0, 40)}"); send the CSV uncompressed`,
        ),
      );
    }
    const declared = Number(request.headers['content-length'] ?? NaN);
    if (declared > deps.maxUploadBytes)
      refuseUnread(new HubError('too_large', `the upload is ${declared} bytes; the limit is ${deps.maxUploadBytes}`));
    if (running >= deps.maxConcurrentUploads) {
      refuseUnread(
        new HubError(
          'too_many_uploads',
          `the hub is taking ${running} uploads, the most it takes at once; send the file again in a few seconds`,
          { retryAfterS: RETRY_AFTER_S },
        ),
      );
    }
    running++;
    const path = await spoolPath(deps.spoolDir).catch((err: unknown) => {
      running--;
      throw err;
    });
    let bytes = 0;
    try {
      try {
        bytes = await spoolBody(body, path, {
          maxBytes: deps.maxUploadBytes,
          bodyTimeoutMs: deps.uploadBodyTimeoutMs,
          idleTimeoutMs: deps.uploadIdleTimeoutMs,
        });
      } catch (err) {
        // 413 and 408 leave the rest of the body unread.
        if (err instanceof HubError && statusOf(err) !== 400) refuseUnread(err);
        throw err;
      }
      const answer = await ingestUpload(path, deps, scopeOf(request.principal));
      deps.onUpload?.({ ...answer, bytes, ms: performance.now() - started, error: null }, request);
      return answer;
    } catch (err) {
      deps.onUpload?.({ accepted: 0, duplicates: 0, bytes, ms: performance.now() - started, error: err as Error }, request);
      throw err;
    } finally {
      running--;
      await rm(path, { force: true });
    }
  });
}
