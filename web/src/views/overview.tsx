/** The overview (`/`): a card per room the user may see, live from the stream. */
import { now } from '../clock.ts';
import { roomsOf, useFleet, type SensorView } from '../fleet.ts';
import { mayActAs, roomsFilter, type Session } from '../session.ts';
import { ReportNow } from './report-now.tsx';
import { RoomCard } from './room-card.tsx';

export function Overview({ session }: { session: Session }) {
  const fleet = useFleet();
  void fleet.version.value; // re-render on every change of the fleet
  const t = now.value;
  const byRoom = new Map<string, SensorView[]>();
  for (const v of fleet.sensors.values()) {
    const list = byRoom.get(v.info.room) ?? [];
    list.push(v);
    byRoom.set(v.info.room, list);
  }
  const rooms = roomsOf(fleet, session.rooms);
  return (
    <section aria-labelledby="overview-title">
      <h1 id="overview-title">Overview</h1>
      {mayActAs(session, 'operator') && <ReportNow rooms={roomsFilter(session)} label="asks every sensor you may see" />}
      {fleet.error.value && (
        <p class="problem" role="alert">
          {fleet.error.value}
        </p>
      )}
      {fleet.loaded.value && rooms.length === 0 && <p>No rooms yet: no sensor has connected and nothing was uploaded.</p>}
      <div class="cards">
        {rooms.map((room) => (
          <RoomCard
            key={room}
            room={room}
            now={t}
            sensors={(byRoom.get(room) ?? []).sort((a, b) => (a.info.sensor < b.info.sensor ? -1 : 1))}
          />
        ))}
      </div>
    </section>
  );
}
