/**
 * Alerts over HTTP (docs/ALERTS.md, docs/API.md "Alerts"): rules, for admins, at
 * `/api/v1/alerts/rules[/:name]`; the events, for everyone in their rooms, at `GET /api/v1/alerts`.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ActivityLog } from '../access/activity-log.ts';
import { recordRequest } from './access-routes.ts';
import { statusOf } from './api-error.ts';
import { scopeOf } from '../access/principal.ts';
import { describeScope, inScope } from '../access/room-scope.ts';
import type { AlertService } from '../alerts/alert-service.ts';
import type { AlertRule } from '../alerts/alert-rule.ts';
import { HubError } from '../hub-error.ts';
import {
  AlertEventsQuery,
  AlertRuleParams,
  AlertRulePutRequest,
  DEFAULT_ALERT_EVENTS_LIMIT,
  MAX_ALERT_EVENTS_LIMIT,
  type AlertEvent,
  type AlertRuleBody,
} from '../../protocol/schemas/alerts.ts';
import { requireRole } from './auth.ts';

export interface AlertsRouteDeps {
  alerts: AlertService;
  /** rule changes are recorded, refused or done, like changes to users and tokens */
  activity: ActivityLog;
  now: () => number;
}

/** Runs a rule change and records it in the activity log. */
async function audited<T>(
  deps: AlertsRouteDeps,
  request: FastifyRequest,
  action: 'alert.put' | 'alert.delete',
  name: string,
  work: () => Promise<{ status: number; body: T; detail: string }>,
): Promise<{ status: number; body: T }> {
  try {
    const r = await work();
    recordRequest(deps.activity, request, action, name, r.status, r.detail);
    return r;
  } catch (err) {
    recordRequest(deps.activity, request, action, name, err instanceof HubError ? statusOf(err) : 500, (err as Error).message);
    throw err;
  }
}

export function registerAlertsRoutes(scope: FastifyInstance, deps: AlertsRouteDeps): void {
  const app = scope.withTypeProvider<TypeBoxTypeProvider>();
  const { alerts } = deps;
  const body = (r: AlertRule): AlertRuleBody => ({
    name: r.name,
    rule: r.rule,
    room: r.room,
    sensor: r.sensor,
    webhooks: r.webhooks,
    updated_at: r.updatedAt,
    firing: alerts.firingCount(r.name),
  });

  app.get('/api/v1/alerts/rules', async (request) => {
    requireRole(request, 'admin', 'read alert rules');
    return { rules: alerts.rules.map(body) };
  });

  app.get('/api/v1/alerts/rules/:name', { schema: { params: AlertRuleParams } }, async (request) => {
    requireRole(request, 'admin', 'read alert rules');
    const rule = alerts.rule(request.params.name);
    if (!rule) throw new HubError('not_found', `no alert rule "${request.params.name}": GET /api/v1/alerts/rules lists them`);
    return body(rule);
  });

  app.put('/api/v1/alerts/rules/:name', { schema: { params: AlertRuleParams, body: AlertRulePutRequest } }, async (request, reply) => {
    requireRole(request, 'admin', 'change alert rules');
    const b = request.body;
    const name = request.params.name;
    const r = await audited(deps, request, 'alert.put', name, async () => {
      const existed = alerts.rule(name) !== undefined;
      const rule = await alerts.putRule({
        name,
        rule: b.rule,
        room: b.room ?? null,
        sensor: b.sensor ?? null,
        webhooks: b.webhooks ?? [],
        updatedAt: deps.now(),
      });
      return { status: existed ? 200 : 201, body: body(rule), detail: `${existed ? 'replaced' : 'added'}: ${rule.rule}` };
    });
    return reply.code(r.status).send(r.body);
  });

  app.delete('/api/v1/alerts/rules/:name', { schema: { params: AlertRuleParams } }, async (request) => {
    requireRole(request, 'admin', 'delete alert rules');
    const name = request.params.name;
    const r = await audited(deps, request, 'alert.delete', name, async () => {
      if (!(await alerts.deleteRule(name))) throw new HubError('not_found', `no alert rule "${name}": GET /api/v1/alerts/rules lists them`);
      return { status: 200, body: { deleted: name }, detail: 'deleted; its firing alerts cleared' };
    });
    return r.body;
  });

  app.get('/api/v1/alerts', { schema: { querystring: AlertEventsQuery } }, async (request) => {
    const q = request.query;
    const roomScope = scopeOf(request.principal);
    if (q.room !== undefined && !inScope(roomScope, q.room))
      throw new HubError('forbidden_room', `you may not see room ${q.room}; your rooms: ${describeScope(roomScope)}`);
    const rooms = q.room !== undefined ? [q.room] : roomScope.all ? null : [...roomScope.rooms];
    const limit = q.limit === undefined ? DEFAULT_ALERT_EVENTS_LIMIT : Number(q.limit);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_ALERT_EVENTS_LIMIT)
      throw new HubError('bad_parameter', `limit must be a whole number from 1 to ${MAX_ALERT_EVENTS_LIMIT}`);
    const after = q.after === undefined ? null : Number(q.after);
    if (after !== null && !Number.isSafeInteger(after))
      throw new HubError('bad_parameter', `after must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`);
    const events = await alerts.events({ after, limit, rule: q.rule ?? null, sensor: q.sensor ?? null, rooms, state: q.state ?? null });
    const wanted = (e: AlertEvent) =>
      (rooms === null || rooms.includes(e.room)) &&
      (q.rule === undefined || e.rule === q.rule) &&
      (q.sensor === undefined || e.sensor === q.sensor);
    const lastId = events.length > 0 ? events[events.length - 1]!.id : (after ?? 0);
    return { firing: alerts.firing().filter(wanted), events, last_id: lastId };
  });
}
