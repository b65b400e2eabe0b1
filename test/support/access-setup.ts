/**
 * Access control in tests (docs/ADMIN.md "Access control"): hubs with the access options,
 * requests that carry `Authorization: Bearer <token>`, users and logins, sensor tokens, a
 * movable hub clock, the demo users, and the checks of a refused request.
 *
 *   const h = await startAccessHub();
 *   const { root, alex } = await seedDemo(h.httpPort);   // session tokens
 *   const res = await asUser(h.httpPort, alex).get('/api/v1/latest?room=greenhouse');
 *   expectRefused(res, 403, 'forbidden_room');
 */
import * as assert from 'uvu/assert';
import { errorBody, json, request, type RawResponse } from './api-client.ts';
import { startHub, type HubOptions, type InProcessHub } from './hub-process.ts';
import { perTest, type Teardown } from './teardown.ts';

/** The options the access-control work adds to the hub (docs/ADMIN.md "Limits", "Logging in"). */
export interface AccessOptions {
  /** how long a login session lasts; default 12 h */
  sessionTtlMs?: number;
  /** HTTP requests per minute, per user or per address; 0: none; default 6000 */
  rateLimitPerMinute?: number;
  /** sensor connections from one address; default 10,000 */
  maxConnectionsPerAddress?: number;
}

export type AccessHubOptions = Partial<HubOptions> & AccessOptions;

/** `startHub` with the access options (typed here so the tests compile whatever the hub declares). */
export function startAccessHub(overrides: AccessHubOptions = {}, scope: Teardown = perTest): Promise<InProcessHub> {
  return startHub(overrides, scope);
}

/** A hub clock that a test moves forward: `now: clock.now`, then `clock.advance(ms)`. */
export interface TestClock {
  now: () => number;
  advance(ms: number): void;
}

export function movableClock(): TestClock {
  let skew = 0;
  return {
    now: () => Date.now() + skew,
    advance(ms) {
      skew += ms;
    },
  };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

export interface UserClient {
  get(path: string, headers?: Record<string, string>): Promise<RawResponse>;
  post(path: string, body?: unknown): Promise<RawResponse>;
  put(path: string, body: unknown): Promise<RawResponse>;
  del(path: string): Promise<RawResponse>;
  /** `POST /api/v1/readings` with a CSV body */
  upload(csv: string): Promise<RawResponse>;
}

/** Requests as the holder of `token` (none: no Authorization header). */
export function asUser(port: number, token?: string): UserClient {
  const auth = token === undefined ? {} : bearer(token);
  return {
    get: (path, headers = {}) => request(port, path, { headers: { ...auth, ...headers } }),
    post: (path, body) =>
      request(port, path, {
        method: 'POST',
        headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
    put: (path, body) =>
      request(port, path, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    del: (path) => request(port, path, { method: 'DELETE', headers: auth }),
    upload: (csv) => request(port, '/api/v1/readings', { method: 'POST', headers: { ...auth, 'content-type': 'text/csv' }, body: csv }),
  };
}

/** Asserts a refused request: the status, the contract's error body with `code`, and the headers the spec asks for. */
export function expectRefused(res: RawResponse, status: number, code: string, what = ''): void {
  const label = what ? `${what}: ` : '';
  assert.is(res.status, status, `${label}status (body: ${res.text.slice(0, 200)})`);
  assert.is(errorBody(res).code, code, `${label}error code`);
  if (status === 401 && code === 'unauthorized')
    assert.match(String(res.headers['www-authenticate'] ?? ''), /^Bearer\b/, `${label}WWW-Authenticate: Bearer`);
  if (status === 429) assertRetryAfter(res, label);
}

export function assertRetryAfter(res: RawResponse, label = ''): number {
  const raw = res.headers['retry-after'];
  assert.ok(raw !== undefined, `${label}a Retry-After header`);
  const seconds = Number(raw);
  assert.ok(Number.isInteger(seconds) && seconds >= 0, `${label}Retry-After is whole seconds: "${String(raw)}"`);
  return seconds;
}

/** The error code of a refused request, or `<status>` if the body is not the contract's error. */
export function codeOf(res: RawResponse): string {
  try {
    return errorBody(res).code;
  } catch {
    return `<${res.status}: ${res.text.slice(0, 80)}>`;
  }
}

export type Role = 'viewer' | 'operator' | 'admin';

export interface UserSpec {
  role: Role;
  rooms: string[];
  password?: string;
}

/** `PUT /api/v1/users/NAME` (as `token`, or without one on an open hub); fails unless 200 or 201. */
export async function putUser(port: number, name: string, spec: UserSpec, token?: string): Promise<RawResponse> {
  const res = await asUser(port, token).put(`/api/v1/users/${encodeURIComponent(name)}`, spec);
  if (res.status !== 201 && res.status !== 200) throw new Error(`PUT /api/v1/users/${name}: ${res.status} ${res.text.slice(0, 300)}`);
  return res;
}

export interface LoginAnswer {
  token: string;
  expires_at: number;
  user: string;
  role: string;
  rooms: string[];
}

export function loginRequest(port: number, user: string, password: string): Promise<RawResponse> {
  return asUser(port).post('/api/v1/login', { user, password });
}

/** `POST /api/v1/login`; fails unless 200. */
export async function login(port: number, user: string, password: string): Promise<LoginAnswer> {
  const res = await loginRequest(port, user, password);
  if (res.status !== 200) throw new Error(`POST /api/v1/login as ${user}: ${res.status} ${res.text.slice(0, 300)}`);
  return json<LoginAnswer>(res);
}

export const ADMIN_NAME = 'root';
export const ADMIN_PASSWORD = 'root-password-1';
/** fixtures/demo-users.json: all three have the password `password` */
export const DEMO_PASSWORD = 'password';

/**
 * The demo users with rooms of these tests: alex and sandy as in fixtures/demo-users.json, but sue an
 * admin of three listed rooms (the fixture gives her `*`), so the tests show that an admin of some
 * rooms sees only those, and gets no hub-wide counts.
 */
export const DEMO_USERS: Record<'alex' | 'sue' | 'sandy', UserSpec> = {
  alex: { role: 'viewer', rooms: ['living-room', 'server-room'] },
  sue: { role: 'admin', rooms: ['living-room', 'greenhouse', 'server-room'] },
  sandy: { role: 'operator', rooms: ['greenhouse', 'server-room'] },
};

/**
 * Creates the first user, an admin of every room, on an open hub (no token), logs it in and
 * returns its session token: from then on the API asks for a login.
 */
export async function bootstrapAdmin(port: number, name = ADMIN_NAME, password = ADMIN_PASSWORD): Promise<string> {
  await putUser(port, name, { role: 'admin', rooms: ['*'], password });
  return (await login(port, name, password)).token;
}

export interface DemoTokens {
  root: string;
  alex: string;
  sue: string;
  sandy: string;
}

/** On a hub with no users: `root` (admin, every room) and DEMO_USERS, each logged in. */
export async function seedDemo(port: number): Promise<DemoTokens> {
  const root = await bootstrapAdmin(port);
  for (const [name, spec] of Object.entries(DEMO_USERS)) await putUser(port, name, { ...spec, password: DEMO_PASSWORD }, root);
  const [alex, sue, sandy] = await Promise.all(['alex', 'sue', 'sandy'].map(async (n) => (await login(port, n, DEMO_PASSWORD)).token));
  return { root, alex: alex!, sue: sue!, sandy: sandy! };
}

export interface SensorToken {
  id: string;
  token: string;
  [field: string]: unknown;
}

/** `POST /api/v1/tokens` (as `adminToken`, or without one on an open API); fails unless 201. */
export async function createSensorToken(
  port: number,
  spec: { sensor: string; rooms: string[]; note?: string },
  adminToken?: string,
): Promise<SensorToken> {
  const res = await asUser(port, adminToken).post('/api/v1/tokens', spec);
  if (res.status !== 201) throw new Error(`POST /api/v1/tokens ${JSON.stringify(spec)}: ${res.status} ${res.text.slice(0, 300)}`);
  const body = json<SensorToken>(res);
  assert.type(body.id, 'string', 'the token has an id');
  assert.type(body.token, 'string', 'the answer carries the token');
  return body;
}

/** `DELETE /api/v1/tokens/ID`; fails unless 200 or 204. */
export async function revokeSensorToken(port: number, id: string, adminToken?: string): Promise<void> {
  const res = await asUser(port, adminToken).del(`/api/v1/tokens/${encodeURIComponent(id)}`);
  if (res.status !== 200 && res.status !== 204) throw new Error(`DELETE /api/v1/tokens/${id}: ${res.status} ${res.text.slice(0, 300)}`);
}

export interface ActivityEvent {
  id: string | number;
  ts: number;
  actor: string;
  address: string;
  action: string;
  target: unknown;
  outcome: string;
  code: unknown;
  detail: unknown;
}

/** `GET /api/v1/activity` with the query; fails unless 200. */
export async function activity(
  port: number,
  adminToken: string | undefined,
  query = '',
): Promise<{ events: ActivityEvent[]; last_id: unknown }> {
  const res = await asUser(port, adminToken).get(`/api/v1/activity${query}`);
  if (res.status !== 200) throw new Error(`GET /api/v1/activity${query}: ${res.status} ${res.text.slice(0, 300)}`);
  return json<{ events: ActivityEvent[]; last_id: unknown }>(res);
}

/** `GET /api/v1/health` (never asks for credentials): its `auth` part. */
export async function healthAuth(port: number): Promise<{ status: number; auth: unknown }> {
  const res = await request(port, '/api/v1/health');
  const body = json<{ auth?: unknown }>(res);
  return { status: res.status, auth: body.auth };
}
