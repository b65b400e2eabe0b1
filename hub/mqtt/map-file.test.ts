import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadMapFile, parseMapFile, MapFileError } from './map-file.ts';
import { MessageMapper } from './message-mapper.ts';

function problem(json: unknown): string {
  try {
    parseMapFile(json, 'map.json');
  } catch (err) {
    assert.instance(err, MapFileError);
    return (err as Error).message;
  }
  throw new Error('expected the mapping file to be refused');
}

/** The readings without their undefined fields (absent room, unit, ts), as they would be sent as JSON. */
function defined<T>(readings: T): T {
  return JSON.parse(JSON.stringify(readings)) as T;
}

test('a mistake names its place in the file and what to write there', () => {
  assert.match(problem({ sensors: { lamp: { room: 'living room' } } }), 'sensors["lamp"].room "living room" must be a room');
  assert.match(
    problem({ topics: [{ filter: 'a/+/b', sensor: 's-{2}' }] }),
    'topics[0].sensor "s-{2}": {2} stands for + level number 2 of the filter, and "a/+/b" has 1',
  );
  assert.match(
    problem({ topics: [{ filter: 'a/#/b', sensor: 's' }] }),
    'topics[0].filter "a/#/b" # must be a whole level and the last one',
  );
  assert.match(problem({ topics: [{ filter: 'a', sensor: 's', payload: 'number' }] }), 'a "number" payload needs "metric"');
  assert.match(problem({ metrics: { Temp: 'Air Temperature' } }), 'metrics["Temp"] "Air Temperature" must be a metric');
  assert.match(problem({ builtins: { tasmota: 'yes' } }), 'builtins.tasmota must be true, false or an object with prefix');
  assert.match(problem({ sensor: {} }), 'the mapping file has an unknown field "sensor"');
  assert.match(
    problem({ metrics: { temp: { metric: 'temperature', unit: '=cmd' } } }),
    'metrics["temp"].unit: unit "=cmd" must not begin with =',
  );
});

test('a file that is not JSON is refused with the parser’s words and the file name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'roomwatch-mqtt-map-'));
  const file = join(dir, 'map.json');
  writeFileSync(file, '{"sensors": {');
  assert.throws(() => loadMapFile(file), /mqtt mapping file .*map\.json is not JSON/);
  assert.throws(() => loadMapFile(join(dir, 'missing.json')), /cannot be read \(ENOENT\)/);
});

test('renames, rooms and dropped metrics apply to the built-in mappings, by the device’s name or the id made of it', () => {
  const map = parseMapFile({
    sensors: {
      'Living Room': { id: 'living-th', room: 'living', metrics: { linkquality: false, temperature: 'air_temperature' } },
      TH16: { room: 'garage' },
    },
    metrics: { voltage: { metric: 'battery_voltage', unit: 'mV' } },
    default_room: 'home',
  });
  const mapper = new MessageMapper(map);
  const z = mapper.route('zigbee2mqtt/Living Room', Buffer.from('{"temperature":21.5,"linkquality":80,"voltage":3000}'));
  assert.equal(z.kind === 'readings' && defined(z.readings), [
    { sensor: 'living-th', metric: 'air_temperature', value: 21.5, room: 'living', unit: 'C' },
    { sensor: 'living-th', metric: 'battery_voltage', value: 3000, room: 'living', unit: 'mV' },
  ]);
  const t = mapper.route('tele/TH16/SENSOR', Buffer.from('{"AM2301":{"Humidity":40}}'));
  assert.equal(t.kind === 'readings' && t.readings[0]!.room, 'garage');
  const other = mapper.route('zigbee2mqtt/hall', Buffer.from('{"humidity":40}'));
  assert.equal(other.kind === 'readings' && other.readings[0]!.room, 'home', 'default_room for the rest');
});

test('a topic of one’s own: the filter’s + levels make the sensor id; JSON fields or one number', () => {
  const map = parseMapFile({
    builtins: { zigbee2mqtt: false, tasmota: false, shelly: false, esphome: false },
    topics: [
      { filter: 'garden/+/soil', sensor: 'soil-{1}', payload: 'number', metric: 'soil_moisture', unit: '%', room: 'garden' },
      {
        filter: 'lab/+/climate/#',
        sensor: '{1}',
        fields: { t: 'temperature', h: { metric: 'humidity', unit: '%' } },
        ts_field: 'at',
        ts_unit: 's',
      },
    ],
  });
  const mapper = new MessageMapper(map);
  assert.equal(mapper.filters, ['garden/+/soil', 'lab/+/climate/#']);
  const soil = mapper.route('garden/bed 3/soil', Buffer.from('41.5'));
  assert.equal(soil.kind === 'readings' && defined(soil.readings), [
    { sensor: 'soil-bed_3', metric: 'soil_moisture', value: 41.5, room: 'garden', unit: '%' },
  ]);
  const lab = mapper.route('lab/bench1/climate', Buffer.from('{"t":20.5,"h":33,"rssi":-60,"at":1700000000}'));
  assert.equal(lab.kind === 'readings' && defined(lab.readings), [
    { sensor: 'bench1', metric: 'temperature', value: 20.5, ts: 1700000000000 },
    { sensor: 'bench1', metric: 'humidity', value: 33, unit: '%', ts: 1700000000000 },
  ]);
  assert.is(mapper.route('zigbee2mqtt/x', Buffer.from('{"temperature":1}')).kind, 'unmapped', 'built-ins turned off');
});

test('field names that break the rules are made valid; one with nothing valid is left out and named', () => {
  const mapper = new MessageMapper(parseMapFile({}));
  const r = mapper.route('zigbee2mqtt/x', Buffer.from('{"Air Quality":3,"%":4}'));
  assert.equal(r.kind === 'readings' && [r.readings.map((x) => x.metric), r.badNames], [['air_quality'], ['%']]);
});

test('a sensor name with nothing valid in it is refused as invalid_name', () => {
  const mapper = new MessageMapper(parseMapFile({}));
  const r = mapper.route('zigbee2mqtt/###', Buffer.from('{"temperature":3}'));
  assert.is(r.kind === 'refused' && r.reason, 'invalid_name');
});

test.run();
