/** `POST /api/v1/report-now`: body (all optional) the filters and `timeout_ms` (0..30000, default 2000). */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DEFAULT_REPORT_TIMEOUT_MS, MAX_REPORT_TIMEOUT_MS, ReportNowRequest } from '../../protocol/schemas/report-now.ts';
import type { ReportNow } from '../sensors/report-now.ts';
import { parseFilters } from './filters.ts';
import { requireRole, scopeFilters } from './auth.ts';
import type { ReportNowAnswer } from '../sensors/report-now.ts';

export { DEFAULT_REPORT_TIMEOUT_MS, MAX_REPORT_TIMEOUT_MS };

export function registerReportNowRoute(
  app: FastifyInstance,
  reportNow: ReportNow,
  onRound?: (answer: ReportNowAnswer, request: FastifyRequest) => void,
): void {
  // The schema refuses an unknown field (`{"sensors":"x"}`, a typo, must not ask every sensor)
  // and a timeout_ms that is not an integer in range (null included); no body is `{}`.
  app.withTypeProvider<TypeBoxTypeProvider>().post('/api/v1/report-now', { schema: { body: ReportNowRequest } }, async (request) => {
    requireRole(request, 'operator', 'ask sensors to report now');
    // Only the sensors of the asker's rooms are asked.
    const filters = scopeFilters(request.principal, parseFilters(request.body));
    const answer = await reportNow.run(filters, request.body.timeout_ms ?? DEFAULT_REPORT_TIMEOUT_MS);
    onRound?.(answer, request);
    return answer;
  });
}
