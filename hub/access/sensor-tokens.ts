/**
 * Sensor tokens (docs/ADMIN.md "Sensor tokens"): created and revoked by admins, checked at every
 * hello. The sensor port asks for a token as soon as one unrevoked token exists; connected
 * sensors are checked again whenever that changes (stillAdmitted).
 */
import { HubError } from '../hub-error.ts';
import type { AccessContext } from './access-context.ts';
import type { TokenRow } from './access-records.ts';
import { tokenView, type TokenView } from './access-views.ts';
import { checkRooms } from './room-list.ts';
import { inScope, roomScope } from './room-scope.ts';
import { newId, newSecret, sha256 } from './secrets.ts';
import { compileSensorPattern, sensorPatternProblem, type SensorPattern } from './sensor-pattern.ts';

export type HelloVerdict = { ok: true; tokenId: string | null } | { ok: false; code: 401 | 403; message: string; tokenId: string | null };

export interface TokenInput {
  sensor?: unknown;
  rooms?: unknown;
  note?: unknown;
}

const HOW_TO_GET_ONE = 'an admin creates sensor tokens (POST /api/v1/tokens)';

export class SensorTokens {
  /** by token id */
  private readonly byId = new Map<string, TokenRow>();
  /** by the SHA-256 of the token's secret */
  private readonly bySha = new Map<string, TokenRow>();
  /** by token id */
  private readonly patterns = new Map<string, SensorPattern>();

  constructor(
    private readonly ctx: AccessContext,
    /** listening beyond loopback without --allow-anyone-on-the-network: a token always required */
    private readonly exposed: boolean,
  ) {}

  /** Replaces every token with `rows` (at start; in cluster mode again after another hub's change). */
  load(rows: readonly TokenRow[]): void {
    this.byId.clear();
    this.bySha.clear();
    this.patterns.clear();
    for (const t of rows) this.index(t);
  }

  /** Every token as held now. */
  rows(): TokenRow[] {
    return [...this.byId.values()];
  }

  /** The sensor port asks for a token as soon as one unrevoked token exists (and always when exposed). */
  get required(): boolean {
    if (this.exposed) return true;
    for (const t of this.byId.values()) if (t.revokedAt === null) return true;
    return false;
  }

  /**
   * Whether a sensor admitted with this token (null: none was needed) may stay connected: its token
   * was not revoked, and, if it had none, the hub still asks for none (the first token closes the
   * sensor port to sensors without one, including those already connected).
   */
  stillAdmitted(tokenId: string | null): { ok: true } | { ok: false; message: string } {
    if (tokenId === null)
      return this.required ? { ok: false, message: `this hub now requires a token in hello; ${HOW_TO_GET_ONE}` } : { ok: true };
    const t = this.byId.get(tokenId);
    return t && t.revokedAt === null ? { ok: true } : { ok: false, message: 'bad token: revoked by an administrator' };
  }

  list(): TokenView[] {
    return [...this.byId.values()].map(tokenView);
  }

  async create(input: TokenInput, by: string): Promise<{ token: string; view: TokenView }> {
    const problem = sensorPatternProblem(input.sensor);
    if (problem) throw new HubError('bad_token_request', problem);
    const rooms = checkRooms(input.rooms, 'rooms');
    if (rooms.length === 0) throw new HubError('bad_token_request', 'rooms must name at least one room, or "*" for any');
    const note = input.note ?? '';
    if (typeof note !== 'string' || note.length > 200)
      throw new HubError('bad_token_request', 'note must be a string of at most 200 characters');
    const secret = newSecret('sensor-token');
    const row: TokenRow = {
      id: newId('t-'),
      secretSha256: sha256(secret),
      sensorPattern: input.sensor as string,
      rooms,
      note,
      createdAt: this.ctx.now(),
      createdBy: by,
      revokedAt: null,
    };
    await this.ctx.persist([{ kind: 'put-token', token: row }]);
    this.index(row);
    this.ctx.events.sensorRulesChanged();
    return { token: secret, view: tokenView(row) };
  }

  async revoke(id: string): Promise<TokenView> {
    const t = this.byId.get(id);
    if (!t) throw new HubError('not_found', `no sensor token "${id}"; GET /api/v1/tokens lists them`);
    if (t.revokedAt === null) {
      const revoked = { ...t, revokedAt: this.ctx.now() };
      await this.ctx.persist([{ kind: 'put-token', token: revoked }]);
      this.index(revoked);
      this.ctx.events.sensorRulesChanged();
    }
    return tokenView(this.byId.get(id)!);
  }

  /**
   * The rules for a sensor's hello (docs/ADMIN.md "Sensor tokens"). `knownRoom`: the room the hub
   * knows the sensor in (connected or not), if it knows it at all.
   */
  checkHello(token: string | undefined, sensor: string, room: string, knownRoom?: string): HelloVerdict {
    if (!this.required) return { ok: true, tokenId: null };
    if (token === undefined)
      return { ok: false, code: 401, message: `this hub requires a token in hello; ${HOW_TO_GET_ONE}`, tokenId: null };
    const t = this.bySha.get(sha256(token));
    if (!t || t.revokedAt !== null) return { ok: false, code: 401, message: 'bad token: unknown or revoked', tokenId: t?.id ?? null };
    if (!this.patterns.get(t.id)!.test(sensor)) {
      return {
        ok: false,
        code: 403,
        message: `token ${t.id} allows sensor ids matching "${t.sensorPattern}", not "${sensor}"`,
        tokenId: t.id,
      };
    }
    const rooms = roomScope(t.rooms);
    if (!inScope(rooms, room)) {
      return { ok: false, code: 403, message: `token ${t.id} allows rooms ${t.rooms.join(', ')}, not "${room}"`, tokenId: t.id };
    }
    // A hello takes over the sensor id (the connected one gets 409) and moves it to its room: a
    // token for one room must not reach into another to evict, move or impersonate its sensors.
    if (knownRoom !== undefined && !inScope(rooms, knownRoom)) {
      return {
        ok: false,
        code: 403,
        message:
          `sensor "${sensor}" is in room "${knownRoom}", which token ${t.id} does not allow: ` +
          `connect it with a token for that room (one that also allows "${room}" may move it there)`,
        tokenId: t.id,
      };
    }
    return { ok: true, tokenId: t.id };
  }

  private index(t: TokenRow): void {
    this.byId.set(t.id, t);
    this.bySha.set(t.secretSha256, t);
    this.patterns.set(t.id, compileSensorPattern(t.sensorPattern));
  }
}
