/**
 * `GET /api/v1/history.csv`: parameters checked first (400 before any CSV), then the store
 * worker's CSV chunks are piped into the reply under credit, so memory stays flat whatever
 * the size, and a client that goes away cancels the query.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { historyFileName, parseHistoryParams } from '../history/history-params.ts';
import type { ReadingStore } from '../store/reading-store.ts';
import { scopeFilters } from './auth.ts';

export interface HistoryRouteDeps {
  store: ReadingStore;
  /** each export once it ends (whole or cancelled), and who asked for what */
  onExport?(info: { rows: number; bytes: number; ms: number; cancelled: boolean }, request: FastifyRequest): void;
}

export function registerHistoryRoute(app: FastifyInstance, deps: HistoryRouteDeps): void {
  app.get('/api/v1/history.csv', async (request, reply) => {
    const query = parseHistoryParams(request.query as Record<string, unknown>, (f) => scopeFilters(request.principal, f));
    const started = performance.now();
    let bytes = 0;
    let owed = 0; // chunks taken while the reply was full: credit them when it asks for more
    let finished = false;
    const body = new Readable({
      highWaterMark: 1024 * 1024,
      read() {
        for (; owed > 0; owed--) handle.credit();
      },
    });
    const handle = deps.store.exportHistory(query, (chunk) => {
      bytes += chunk.length;
      if (body.push(chunk)) handle.credit();
      else owed++;
    });
    handle.done.then(
      ({ rows }) => {
        finished = true;
        body.push(null);
        deps.onExport?.({ rows, bytes, ms: performance.now() - started, cancelled: false }, request);
      },
      (err: Error) => {
        finished = true;
        request.log.error({ err }, 'history export failed');
        body.destroy(err);
      },
    );
    reply.raw.on('close', () => {
      if (!finished) {
        handle.cancel();
        deps.onExport?.({ rows: 0, bytes, ms: performance.now() - started, cancelled: true }, request);
      }
    });
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${historyFileName(query)}"`)
      .header('cache-control', 'no-store')
      .send(body);
  });
}
