/**
 * Who may write readings over HTTP (InfluxDB line protocol, Prometheus remote write), by the
 * sensor port's rules (docs/ADMIN.md "Sensor tokens"): where the hub asks sensors for a token,
 * these writes need one too, and a token writes only its sensors and rooms. A login of an
 * operator or admin also writes, into its rooms. The credential comes as InfluxDB and
 * Prometheus clients send one: `Authorization: Token X`, `Bearer X`, `Basic` (the password is
 * the token; the user name is ignored), or InfluxDB 1.x's `p` parameter.
 */
import { mayActAs, type Principal } from '../access/principal.ts';
import { describeScope, inScope, type RoomScope } from '../access/room-scope.ts';
import type { AccessControl } from '../access/access-control.ts';
import { HubError } from '../hub-error.ts';
import { ANYONE, type Rights } from '../ingest/batch-ingest.ts';
import { DEFAULT_ROOM } from '../../protocol/names.ts';

const HOW_TO_SEND =
  'send a sensor token as Authorization: Token <token> (or Bearer, or as the Basic password, or the p parameter); an admin creates sensor tokens (POST /api/v1/tokens)';

/** The secret of a write request, or undefined when it carries none. */
export function credentialOf(authorization: string | undefined, p: string | undefined): string | undefined {
  if (authorization !== undefined) {
    const space = authorization.indexOf(' ');
    const scheme = (space === -1 ? authorization : authorization.slice(0, space)).toLowerCase();
    const value = space === -1 ? '' : authorization.slice(space + 1).trim();
    if (scheme === 'token' || scheme === 'bearer') return value;
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      return colon === -1 ? decoded : decoded.slice(colon + 1);
    }
    throw new HubError('bad_token', `the Authorization scheme "${scheme.slice(0, 20)}" is not taken here; ${HOW_TO_SEND}`);
  }
  return p === '' ? undefined : p;
}

/** The rights of a write's credential; throws 401 (none, or unknown) or 403 (a viewer's login). */
export function writeRights(access: AccessControl, secret: string | undefined): Rights {
  if (secret !== undefined && access.loginRequired) {
    const who = access.authenticate(`Bearer ${secret}`);
    if (!('status' in who) && who.kind === 'user') return userRights(who);
  }
  if (!access.sensorTokenRequired) return ANYONE;
  if (secret === undefined) throw new HubError('unauthorized', `this hub requires a sensor token for writes; ${HOW_TO_SEND}`);
  // The token itself is checked before any sensor or room: a 401 here is the token, whatever the sensor.
  const probe = access.checkHello(secret, 'probe', DEFAULT_ROOM);
  if (!probe.ok && probe.code === 401) throw new HubError('bad_token', `${probe.message}; ${HOW_TO_SEND}`);
  return {
    who: `token ${probe.tokenId}`,
    refusal(sensor, room, knownRoom) {
      const verdict = access.checkHello(secret, sensor, room, knownRoom);
      return verdict.ok ? null : verdict.message;
    },
  };
}

function userRights(p: Extract<Principal, { kind: 'user' }>): Rights {
  if (!mayActAs(p, 'operator'))
    throw new HubError('forbidden', `only operators and admins may write readings; you are ${p.name} (${p.role})`);
  return roomRights(p.scope, `user ${p.name}`);
}

/** A user's rooms: a sensor the hub knows must be in one of them, and so must the room written. */
export function roomRights(scope: RoomScope, who: string): Rights {
  return {
    who,
    refusal(sensor, room, knownRoom) {
      if (knownRoom !== undefined && !inScope(scope, knownRoom))
        return `sensor "${sensor}" is not in your rooms (${describeScope(scope)}), so you may not write it`;
      if (!inScope(scope, room)) return `room "${room}" is not one of your rooms (${describeScope(scope)})`;
      return null;
    },
  };
}
