/**
 * A user's rooms: everything they read or do is limited to them. `*` is every room.
 */
import { ANY_ROOM } from './access-records.ts';

export type RoomScope = { readonly all: true } | { readonly all: false; readonly rooms: ReadonlySet<string> };

export const EVERY_ROOM: RoomScope = { all: true };

export function roomScope(rooms: readonly string[]): RoomScope {
  return rooms.includes(ANY_ROOM) ? EVERY_ROOM : { all: false, rooms: new Set(rooms) };
}

export function inScope(scope: RoomScope, room: string): boolean {
  return scope.all || scope.rooms.has(room);
}

export function describeScope(scope: RoomScope): string {
  return scope.all ? 'every room' : scope.rooms.size === 0 ? 'no room' : [...scope.rooms].join(', ');
}
