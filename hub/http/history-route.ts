/**
 * `GET /api/v1/history.csv`: parameters checked first (400 before any CSV), then the store
 * worker's CSV chunks are piped into the reply under credit, so memory stays flat whatever
 * the size, and a client that goes away cancels the query.
 *
 * Each export holds store work and memory for as long as its client takes, so they are bounded
 * (ExportSlots: 429 beyond the limits), a client that stops reading is cut off after
 * stallTimeoutMs, an export whose asker lost the right to it (logout, deleted, a room taken
 * away) is cut off too, and a store that fails before the first row answers 503, not a broken 200.
 */
import { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HistoryQuery } from '../../protocol/schemas/history.ts';
import { ExportSlots, type ExportLimits } from '../history/export-slots.ts';
import { historyFileName, parseHistoryParams } from '../history/history-params.ts';
import { retainedHeaders } from '../history/retained-header.ts';
import type { HubStore } from '../store/hub-store.ts';
import { HubError } from '../hub-error.ts';
import type { AccessControl } from '../access/access-control.ts';
import { scopeOf, type Principal } from '../access/principal.ts';
import { inScope } from '../access/room-scope.ts';
import { scopeFilters } from './auth.ts';

export interface ExportInfo {
  rows: number;
  bytes: number;
  ms: number;
  /** true unless every row reached the client */
  cancelled: boolean;
  /** for the activity log: 200 whole, 499 the client went away or stopped reading, 503 the store failed */
  code: number;
  detail: string;
}

export interface HistoryRouteDeps {
  store: HubStore;
  /** the places of running exports, when the hub counts them elsewhere too (its metrics); else made from limits */
  slots?: ExportSlots;
  limits: ExportLimits & {
    /** an export whose client reads nothing for this long is cancelled */
    stallTimeoutMs: number;
  };
  /** each export once it ends (whole or cancelled), and who asked for what */
  onExport?(info: ExportInfo, request: FastifyRequest): void;
  /** to stop an export whose asker lost the right to it (logged out, deleted, a room taken away) */
  access?: Pick<AccessControl, 'recheck' | 'onPrincipalChanged'>;
}

/** An export under way: who asked, the rooms it reads (null: every room), and how to stop it. */
interface RunningExport {
  principal: Principal;
  rooms: readonly string[] | null;
  cut(why: string): void;
}

/** what a refused export is told to wait; exports take seconds to minutes */
const RETRY_AFTER_S = 5;
/** CSV held for a slow client beyond what its socket holds; the worker stays a few chunks behind */
const BODY_HIGH_WATER_BYTES = 1024 * 1024;

export function registerHistoryRoute(app: FastifyInstance, deps: HistoryRouteDeps): ExportSlots {
  const slots = deps.slots ?? new ExportSlots(deps.limits);
  const running = new Set<RunningExport>();
  // Rights are those of a new request at every moment: an export a new request could not make stops.
  deps.access?.onPrincipalChanged((user) => {
    for (const e of running) {
      if (e.principal.kind === 'user' && e.principal.name !== user) continue;
      const fresh = deps.access!.recheck(e.principal);
      if ('status' in fresh) e.cut('its login ended');
      else {
        const scope = scopeOf(fresh);
        if (e.rooms === null ? !scope.all : !e.rooms.every((r) => inScope(scope, r))) e.cut('a room it reads is no longer the user’s');
      }
    }
  });
  const routes = app.withTypeProvider<TypeBoxTypeProvider>();
  routes.get('/api/v1/history.csv', { schema: { querystring: HistoryQuery } }, async (request, reply) => {
    const query = parseHistoryParams(request.query, (f) => scopeFilters(request.principal, f));
    // Read now: once a client is gone, its socket no longer knows its address, and the activity
    // log records an abandoned export after that.
    const address = request.ip ?? '-';
    const p = request.principal;
    const slot = slots.take(p.kind === 'user' ? `user ${p.name}` : `address ${address}`);
    if (!slot.ok) {
      reply.header('retry-after', String(RETRY_AFTER_S));
      throw new HubError('too_many_exports', slot.message);
    }
    const started = performance.now();
    let bytes = 0;
    let owed = 0; // chunks taken while the reply was full: credit them when it asks for more
    let workerDone = false;
    let abandoned = false;
    /** why the hub cut the export off, if it did */
    let cutBy: string | null = null;
    const cut = (why: string) => {
      cutBy ??= why;
      reply.raw.destroy();
    };
    const self: RunningExport = { principal: p, rooms: query.rooms, cut };
    running.add(self);
    let storeError: Error | null = null;
    let stallTimer: NodeJS.Timeout | null = null;
    const unstall = () => {
      if (stallTimer) clearTimeout(stallTimer);
      stallTimer = null;
    };
    let firstData: () => void = () => {};
    const firstReady = new Promise<void>((resolve) => (firstData = resolve));
    const body = new Readable({
      highWaterMark: BODY_HIGH_WATER_BYTES,
      read() {
        unstall();
        for (; owed > 0; owed--) handle.credit();
      },
    });
    // A failure is logged below and ends the reply; the body may not be piped yet when it comes.
    body.on('error', () => {});
    const handle = deps.store.exportHistory(query, (chunk) => {
      bytes += chunk.length;
      firstData();
      if (body.push(chunk)) return handle.credit();
      owed++;
      // The client has not taken what it has: if it takes nothing more for so long, it is gone.
      stallTimer ??= setTimeout(() => {
        request.log.warn({ bytes, stallTimeoutMs: deps.limits.stallTimeoutMs }, 'history export cancelled: its client stopped reading');
        cut(`its client read nothing for ${deps.limits.stallTimeoutMs / 1000} s`);
      }, deps.limits.stallTimeoutMs);
    });
    const outcome = handle.done.then(
      (r) => ({ rows: r.rows, error: null as Error | null }),
      (err: Error) => ({ rows: 0, error: err }),
    );
    void outcome.then(({ rows, error }) => {
      workerDone = true;
      running.delete(self);
      slot.release();
      unstall();
      if (abandoned) return; // recorded when the client went
      if (error) {
        storeError = error;
        request.log.error({ err: error }, 'history export failed');
        body.destroy(error);
        return;
      }
      body.push(null);
      deps.onExport?.(
        { rows, bytes, ms: performance.now() - started, cancelled: false, code: 200, detail: `${rows} rows, ${bytes} bytes` },
        request,
      );
    });
    reply.raw.on('close', () => {
      unstall();
      if (reply.raw.writableFinished) return; // whole: the activity hook records it with its status
      abandoned = true;
      if (!workerDone) handle.cancel();
      const why = storeError
        ? `broken off: the store failed (${storeError.message})`
        : `cancelled ${cutBy ? `(${cutBy})` : 'by the client'}`;
      const code = storeError ? 503 : 499;
      deps.onExport?.(
        { rows: 0, bytes, ms: performance.now() - started, cancelled: true, code, detail: `${why} after ${bytes} bytes` },
        request,
      );
    });
    // The status line waits for the first chunk (or the end): a store that fails before any CSV
    // answers 503 with the error body, instead of a 200 that breaks off.
    const early = await Promise.race([firstReady.then(() => null), outcome.then((o) => o.error)]);
    if (early) {
      throw new HubError('store_unavailable', `the store could not read this export now (${early.message}); try again later`);
    }
    if (abandoned) return reply; // the client left before the first row: nothing to send
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${historyFileName(query)}"`)
      .header('cache-control', 'no-store')
      .headers(retainedHeaders(query, deps.store.retention))
      .send(body);
  });
  return slots;
}
