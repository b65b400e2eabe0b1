/**
 * Which room each series of an upload goes to, and whether the uploader may write it
 * (docs/API.md "Rooms of an upload"). Two rules, both per distinct series of the file:
 *
 * - a row is stored in its `room` column, else its sensor's current room, else `default`
 *   (PROTOCOL.md §2 "Rooms"); that room must be one of the uploader's;
 * - a sensor the hub knows belongs to the room it is in now: only someone with that room may
 *   write it, whatever room the rows name. Without this an operator of one room could take
 *   the identities (sensor, metric, ts) of another room's sensor, hide its readings from
 *   `latest`, and learn from the duplicate count what it had stored.
 *
 * A refusal names the rooms the file itself wrote, and the sensors refused, never the room a
 * sensor is in: that the id is taken outside the uploader's rooms is all it has to tell.
 */
import { HubError } from '../hub-error.ts';
import { describeScope, inScope, type RoomScope } from '../access/room-scope.ts';
import type { SensorRegistry } from '../sensors/sensor-registry.ts';
import { DEFAULT_ROOM } from '../../protocol/names.ts';

/** The room a series of the file is stored in. */
export function storedRoom(c: { sensor: string; room: string | null }, registry: SensorRegistry): string {
  return c.room ?? registry.records.get(c.sensor)?.room ?? DEFAULT_ROOM;
}

/** Throws the 403 for a file that writes outside the uploader's rooms; nothing is stored then. */
export function checkUploadRooms(
  combos: readonly { sensor: string; room: string | null }[],
  registry: SensorRegistry,
  scope: RoomScope,
): void {
  if (scope.all) return;
  const rooms = new Set<string>();
  const sensors = new Set<string>();
  for (const c of combos) {
    const known = registry.records.get(c.sensor);
    if (known && !inScope(scope, known.room)) sensors.add(c.sensor);
    else if (!inScope(scope, storedRoom(c, registry))) rooms.add(storedRoom(c, registry));
  }
  if (rooms.size === 0 && sensors.size === 0) return;
  const list = (s: Set<string>) => {
    const sorted = [...s].sort();
    return sorted.slice(0, 10).join(', ') + (sorted.length > 10 ? ` and ${sorted.length - 10} more` : '');
  };
  const parts: string[] = [];
  if (rooms.size > 0) parts.push(`the file has rows in room${rooms.size > 1 ? 's' : ''} ${list(rooms)}`);
  if (sensors.size > 0)
    parts.push(
      `sensor${sensors.size > 1 ? 's' : ''} ${list(sensors)} ${sensors.size > 1 ? 'are' : 'is'} not in your rooms, so you may not write ${sensors.size > 1 ? 'them' : 'it'}`,
    );
  throw new HubError(
    'forbidden_room',
    `${parts.join('; ')}: an upload writes only into your rooms (${describeScope(scope)}), and only sensors that are in them or new; nothing was stored`,
  );
}
