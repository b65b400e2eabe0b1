/**
 * The values `users` and `tokens` send, checked before anything is sent (docs/ADMIN.md "Users,
 * roles and rooms", "Sensor tokens"): user names (the sensor-id rule), roles, rooms (`*` for
 * every room), sensor-id patterns, passwords of at least 8 characters.
 */
import { ROOM_PATTERN, SENSOR_ID_PATTERN, isRoom, isSensorId } from '../../protocol/names.ts';
import { ROLES } from '../access-types.ts';
import type { Role } from '../access-types.ts';
import { UsageError } from '../errors.ts';

export const MIN_PASSWORD_CHARS = 8;
/** Every room, present and future. */
export const ALL_ROOMS = '*';
/** A sensor id with `*` (any run of characters) and `?` (one character) allowed. */
export const SENSOR_PATTERN_PATTERN = /^[A-Za-z0-9._:*?-]{1,64}$/;

export const ROLE_RULE = `must be ${ROLES.slice(0, -1).join(', ')} or ${ROLES.at(-1)}`;

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** What is wrong with a list of rooms, or null. */
export function roomsProblem(rooms: readonly unknown[]): string | null {
  if (rooms.length === 0) return 'must name at least one room, or * for every room';
  for (const room of rooms) {
    if (room !== ALL_ROOMS && !isRoom(room)) return `has "${String(room)}", which is neither a room name (${ROOM_PATTERN.source}) nor *`;
  }
  if (rooms.includes(ALL_ROOMS) && rooms.length > 1) return 'has * (every room) next to other rooms; give * alone';
  return null;
}

export function userNameProblem(name: unknown): string | null {
  return isSensorId(name) ? null : `must be a user name matching ${SENSOR_ID_PATTERN.source}`;
}

/** USER/NAME arguments, checked. */
export function checkUserName(name: string | undefined, what = 'NAME'): string {
  if (name === undefined) throw new UsageError(`${what} is missing`);
  if (!isSensorId(name)) throw new UsageError(`invalid user name ${JSON.stringify(name)}: it must match ${SENSOR_ID_PATTERN.source}`);
  return name;
}

/** `--role`, when given; required or not as the caller says. */
export function parseRole(value: string | boolean | undefined, required: boolean, command: string): Role | undefined {
  if (value === undefined || value === true) {
    if (required) throw new UsageError(`${command} needs --role (${ROLES.join(', ')})`);
    return undefined;
  }
  if (!isRole(value)) throw new UsageError(`--role ${ROLE_RULE}, not "${value}"`);
  return value;
}

/** `--room` as a list of rooms for a user or token; an empty list means not given. */
export function parseRooms(rooms: readonly string[], required: boolean, command: string): string[] | undefined {
  if (rooms.length === 0) {
    if (required) throw new UsageError(`${command} needs --room ROOM[,ROOM...] (or --room '*' for every room)`);
    return undefined;
  }
  const problem = roomsProblem(rooms);
  if (problem) throw new UsageError(`--room ${problem}`);
  return [...rooms];
}
