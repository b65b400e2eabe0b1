/** `POST /api/v1/report-now`: body (all optional) the filters and `timeout_ms` (0..30000, default 2000). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ReportNow } from '../report-now.ts';
import { HubError } from '../hub-error.ts';
import { parseFilters, rejectUnknownParameters } from './filters.ts';
import { requireRole, scopeFilters } from './auth.ts';
import type { ReportNowAnswer } from '../report-now.ts';

export const DEFAULT_REPORT_TIMEOUT_MS = 2_000;
export const MAX_REPORT_TIMEOUT_MS = 30_000;
const REPORT_NOW_FIELDS = ['sensor', 'room', 'metric', 'timeout_ms'] as const;

export function registerReportNowRoute(
  app: FastifyInstance,
  reportNow: ReportNow,
  onRound?: (answer: ReportNowAnswer, request: FastifyRequest) => void,
): void {
  app.post('/api/v1/report-now', async (request) => {
    requireRole(request, 'operator', 'ask sensors to report now');
    const body = request.body ?? {};
    if (typeof body !== 'object' || Array.isArray(body)) throw new HubError('bad_request', 'the body must be a JSON object (or empty)');
    const b = body as Record<string, unknown>;
    // `{"sensors":"x"}` (a typo) must not ask every sensor: unknown fields are refused.
    rejectUnknownParameters(b, REPORT_NOW_FIELDS);
    // Only the sensors of the asker's rooms are asked.
    const filters = scopeFilters(request.principal, parseFilters(b));
    // Absent means the default; null or anything but an integer in range is refused.
    const timeoutMs = b.timeout_ms === undefined ? DEFAULT_REPORT_TIMEOUT_MS : b.timeout_ms;
    if (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_REPORT_TIMEOUT_MS) {
      throw new HubError('bad_parameter', `timeout_ms must be an integer from 0 to ${MAX_REPORT_TIMEOUT_MS}`);
    }
    const answer = await reportNow.run(filters, timeoutMs);
    onRound?.(answer, request);
    return answer;
  });
}
