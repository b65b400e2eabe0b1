/**
 * `sensors`: every sensor the hub has seen, from `GET /api/v1/sensors` (PROTOCOL.md §2).
 * That route takes no filters, yet §3 says every command takes them; so the CLI applies
 * `--sensor`, `--room` (the sensor's current room) and `--metric` (any of its metrics) itself.
 */
import { checkSensorsBody } from '../api-types.ts';
import type { SensorInfo, SensorsBody } from '../api-types.ts';
import { hasFilters } from '../args.ts';
import type { Filters } from '../args.ts';
import type { CommandSpec } from '../command.ts';
import { ExitCode } from '../errors.ts';
import { formatAge } from '../format.ts';
import { renderTable } from '../table.ts';
import { bold } from '../terminal.ts';
import { oneLine } from '../json-output.ts';

export const SENSORS_PATH = '/api/v1/sensors';

export function matchesFilters(s: SensorInfo, filters: Filters): boolean {
  if (filters.sensor.length > 0 && !filters.sensor.includes(s.sensor)) return false;
  if (filters.room.length > 0 && !filters.room.includes(s.room)) return false;
  if (filters.metric.length > 0 && !s.metrics.some((m) => filters.metric.includes(m))) return false;
  return true;
}

/** The table people see, sorted by sensor; ages against `nowMs`. Ends with a newline. */
export function renderSensors(sensors: readonly SensorInfo[], nowMs: number, options: { color: boolean; filtered: boolean }): string {
  if (sensors.length === 0) return options.filtered ? 'no sensors match the filters\n' : 'no sensors yet\n';
  const rows = [...sensors]
    .sort((a, b) => (a.sensor < b.sensor ? -1 : a.sensor > b.sensor ? 1 : 0))
    .map((s) => [
      s.sensor,
      s.room,
      s.connected ? 'yes' : 'no',
      s.last_seen === null ? '-' : formatAge(nowMs - s.last_seen),
      s.metrics.join(','),
    ]);
  const columns = [
    { header: 'sensor' },
    { header: 'room' },
    { header: 'connected' },
    { header: 'last seen', align: 'right' as const },
    { header: 'metrics' },
  ];
  return renderTable(columns, rows, { header: (line) => bold(line, options.color) }).join('\n') + '\n';
}

export const sensorsCommand: CommandSpec = {
  name: 'sensors',
  summary: 'every sensor the hub has seen, and whether it is connected',
  details: [
    'Columns: sensor, room, connected (yes/no), last seen (age), metrics.',
    'The filters are applied by the CLI: --room matches the current room, --metric any metric.',
    "With --json and filters, the hub's body is printed with only the matching sensors.",
  ],
  async run(ctx) {
    const answer = await ctx.hub.getJson(SENSORS_PATH, {}, checkSensorsBody);
    const filtered = hasFilters(ctx.filters);
    const sensors = filtered ? answer.value.sensors.filter((s) => matchesFilters(s, ctx.filters)) : answer.value.sensors;
    if (ctx.json) {
      const body: SensorsBody = { ...answer.value, sensors };
      ctx.stdout.write((filtered ? JSON.stringify(body) : oneLine(answer)) + '\n');
    } else {
      ctx.stdout.write(renderSensors(sensors, ctx.now(), { color: ctx.color, filtered }));
    }
    return ExitCode.Done;
  },
};
