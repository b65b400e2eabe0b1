/**
 * A list of rooms as an admin gives it, to a user or to a sensor token: room names, or `*` for
 * every room, kept sorted and without repeats.
 */
import { isRoom } from '../../protocol/names.ts';
import { HubError } from '../hub-error.ts';
import { ANY_ROOM } from './access-records.ts';

const MAX_ROOMS = 1000;

/** The list, checked; `name` is the field, for the message. */
export function checkRooms(rooms: unknown, name: string): string[] {
  if (!Array.isArray(rooms) || rooms.length > MAX_ROOMS || !rooms.every((r) => r === ANY_ROOM || isRoom(r))) {
    throw new HubError('bad_rooms', `${name} must be an array of room names (^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$) or "*" for every room`);
  }
  return [...new Set(rooms as string[])].sort();
}
