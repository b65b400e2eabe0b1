/**
 * Real payloads of the devices the built-in mappings read, as each project documents them or as
 * captured from devices (the source of each is named), with the readings the hub must make of
 * them. The mapping unit tests read them, and the end-to-end test publishes them through a real
 * Mosquitto with `mosquitto_pub`.
 */

export interface ExpectedReading {
  sensor: string;
  metric: string;
  value: number;
  unit: string;
  /** absent: the hub's receive time */
  ts?: number;
}

export interface DocumentedPayload {
  /** what it is and where it comes from */
  what: string;
  topic: string;
  payload: string;
  /** published retained by the device (ESPHome's discovery configs) */
  retain?: boolean;
  expected: ExpectedReading[];
}

/** Zigbee2MQTT: an Aqara WSDCGQ11LM, as Zigbee2MQTT 1.6 logged it publishing (its friendly name is its IEEE address). */
export const zigbeeAqara: DocumentedPayload = {
  what: 'Zigbee2MQTT, Aqara temperature/humidity/pressure sensor (zigbee2mqtt.io "MQTT Topics and Messages"; a 1.6.0 log)',
  topic: 'zigbee2mqtt/0x00158d00036c1821',
  payload: '{"temperature":22.75,"linkquality":97,"humidity":55.43,"pressure":1000.6,"battery":86,"voltage":2985}',
  expected: [
    { sensor: '0x00158d00036c1821', metric: 'temperature', value: 22.75, unit: 'C' },
    { sensor: '0x00158d00036c1821', metric: 'linkquality', value: 97, unit: 'lqi' },
    { sensor: '0x00158d00036c1821', metric: 'humidity', value: 55.43, unit: '%' },
    { sensor: '0x00158d00036c1821', metric: 'pressure', value: 1000.6, unit: 'hPa' },
    { sensor: '0x00158d00036c1821', metric: 'battery', value: 86, unit: '%' },
    { sensor: '0x00158d00036c1821', metric: 'voltage', value: 2985, unit: 'mV' },
  ],
};

/** Zigbee2MQTT with `last_seen: ISO_8601`, a friendly name with a space and a `/`, and a text field. */
export const zigbeeSwitchLastSeen: DocumentedPayload = {
  what: 'Zigbee2MQTT, Aqara wireless switch with last_seen (a Zigbee2MQTT log), friendly name "hall/wall switch"',
  topic: 'zigbee2mqtt/hall/wall switch',
  payload: '{"battery":100,"voltage":3125,"linkquality":86,"last_seen":"2019-01-12T13:41:27.890Z","click":"double"}',
  expected: [
    { sensor: 'hall_wall_switch', metric: 'battery', value: 100, unit: '%', ts: Date.parse('2019-01-12T13:41:27.890Z') },
    { sensor: 'hall_wall_switch', metric: 'voltage', value: 3125, unit: 'mV', ts: Date.parse('2019-01-12T13:41:27.890Z') },
    { sensor: 'hall_wall_switch', metric: 'linkquality', value: 86, unit: 'lqi', ts: Date.parse('2019-01-12T13:41:27.890Z') },
  ],
};

/** Zigbee2MQTT, a smart plug: its voltage is the mains', in V (zigbee2mqtt.io TS011F exposes: power W, current A, voltage V, energy kWh). */
export const zigbeePlug: DocumentedPayload = {
  what: 'Zigbee2MQTT, TS011F smart plug (zigbee2mqtt.io device page exposes), last_seen epoch',
  topic: 'zigbee2mqtt/desk plug',
  payload: '{"current":0.02,"energy":1.27,"linkquality":120,"power":3,"state":"ON","voltage":231,"last_seen":1700000000123}',
  expected: [
    { sensor: 'desk_plug', metric: 'current', value: 0.02, unit: 'A', ts: 1700000000123 },
    { sensor: 'desk_plug', metric: 'energy', value: 1.27, unit: 'kWh', ts: 1700000000123 },
    { sensor: 'desk_plug', metric: 'linkquality', value: 120, unit: 'lqi', ts: 1700000000123 },
    { sensor: 'desk_plug', metric: 'power', value: 3, unit: 'W', ts: 1700000000123 },
    { sensor: 'desk_plug', metric: 'voltage', value: 231, unit: 'V', ts: 1700000000123 },
  ],
};

/** Tasmota, Sonoff TH16 with an AM2301, as its console showed it (the example; tasmota.github.io/docs/AM2301). */
export const tasmotaAm2301: DocumentedPayload = {
  what: 'Tasmota, Sonoff TH16 with AM2301 (tasmota.github.io/docs/AM2301; a TH16 console log)',
  topic: 'tele/TH16/SENSOR',
  payload: '{"Time":"2018-03-02T18:25:03","AM2301":{"Temperature":22.6,"Humidity":32.4},"TempUnit":"C"}',
  expected: [
    // No zone in Time (SetOption52 0): the hub's local time.
    { sensor: 'TH16', metric: 'temperature', value: 22.6, unit: 'C', ts: new Date(2018, 2, 2, 18, 25, 3).getTime() },
    { sensor: 'TH16', metric: 'humidity', value: 32.4, unit: '%', ts: new Date(2018, 2, 2, 18, 25, 3).getTime() },
  ],
};

/** Tasmota, a BME280 in Fahrenheit with SetOption52 1 (Time carries its offset). */
export const tasmotaBme280: DocumentedPayload = {
  what: 'Tasmota, BME280 (the block of tasmota.github.io/docs/BME280), here with SetOption8 1 (F) and SetOption52 1 (Time with its offset)',
  topic: 'tele/weather/SENSOR',
  payload:
    '{"Time":"2020-03-05T21:49:36+01:00","BME280":{"Temperature":70.7,"Humidity":39.2,"DewPoint":44.4,"Pressure":1013.8},"PressureUnit":"hPa","TempUnit":"F"}',
  expected: [
    { sensor: 'weather', metric: 'temperature', value: 70.7, unit: 'F', ts: Date.parse('2020-03-05T20:49:36Z') },
    { sensor: 'weather', metric: 'humidity', value: 39.2, unit: '%', ts: Date.parse('2020-03-05T20:49:36Z') },
    { sensor: 'weather', metric: 'dew_point', value: 44.4, unit: 'F', ts: Date.parse('2020-03-05T20:49:36Z') },
    { sensor: 'weather', metric: 'pressure', value: 1013.8, unit: 'hPa', ts: Date.parse('2020-03-05T20:49:36Z') },
  ],
};

/** Tasmota, two DS18B20 on one device: the same field in two blocks is named after its block. */
export const tasmotaTwoDs18b20: DocumentedPayload = {
  what: 'Tasmota, two DS18B20 (tasmota.github.io/docs/DS18x20: one block per sensor, DS18B20-1, DS18B20-2)',
  topic: 'tele/boiler/SENSOR',
  payload:
    '{"Time":"2021-01-05T10:00:00+00:00","DS18B20-1":{"Id":"01144A0CB2AA","Temperature":61.3},"DS18B20-2":{"Id":"0114582A5EAA","Temperature":45.9},"TempUnit":"C"}',
  expected: [
    { sensor: 'boiler', metric: 'ds18b20_1_temperature', value: 61.3, unit: 'C', ts: Date.parse('2021-01-05T10:00:00Z') },
    { sensor: 'boiler', metric: 'ds18b20_2_temperature', value: 45.9, unit: 'C', ts: Date.parse('2021-01-05T10:00:00Z') },
  ],
};

/** Shelly Plus H&T: a temperature change (the notification shape of shelly-api-docs "Notifications", a Temperature component's status). */
export const shellyTemperature: DocumentedPayload = {
  what: 'Shelly Plus H&T NotifyStatus, temperature:0 (shelly-api-docs.shelly.cloud gen2 Notifications and Temperature)',
  topic: 'shellyplusht-08b61fd9aef4/events/rpc',
  payload:
    '{"src":"shellyplusht-08b61fd9aef4","dst":"shellyplusht-08b61fd9aef4/events","method":"NotifyStatus","params":{"ts":1671184011.42,"temperature:0":{"id":0,"tC":22.4,"tF":72.3}}}',
  expected: [{ sensor: 'shellyplusht-08b61fd9aef4', metric: 'temperature', value: 22.4, unit: 'C', ts: 1671184011420 }],
};

/** Shelly Plus H&T NotifyFullStatus after waking, as captured over MQTT (a public gist). */
export const shellyFullStatus: DocumentedPayload = {
  what: 'Shelly Plus H&T NotifyFullStatus captured over MQTT (gist NelsonMinar/494a0f53785c20290b395639548349fa)',
  topic: 'shellyplusht-b8d61a8b17cc/events/rpc',
  payload:
    '{"src":"shellyplusht-b8d61a8b17cc","dst":"shellyplusht-b8d61a8b17cc/events","method":"NotifyFullStatus","params":{"ts":1680962879.62,"ble":{},"cloud":{"connected":false},"devicepower:0":{"id":0,"battery":{"V":0.43,"percent":0},"external":{"present":true}},"ht_ui":{},"humidity:0":{"id":0,"rh":42.2},"mqtt":{"connected":true},"sys":{"mac":"B8D61A8B17CC","restart_required":false,"time":null,"unixtime":null,"uptime":3,"ram_size":235300,"ram_free":164244},"temperature:0":{"id":0,"tC":19.8,"tF":67.6},"wifi":{"sta_ip":"192.168.3.183","status":"got ip","rssi":-62}}}',
  expected: [
    { sensor: 'shellyplusht-b8d61a8b17cc', metric: 'battery', value: 0, unit: '%', ts: 1680962879620 },
    { sensor: 'shellyplusht-b8d61a8b17cc', metric: 'battery_voltage', value: 0.43, unit: 'V', ts: 1680962879620 },
    { sensor: 'shellyplusht-b8d61a8b17cc', metric: 'humidity', value: 42.2, unit: '%', ts: 1680962879620 },
    { sensor: 'shellyplusht-b8d61a8b17cc', metric: 'temperature', value: 19.8, unit: 'C', ts: 1680962879620 },
  ],
};

/** Shelly Pro 4PM: a switch toggled by its button (shelly-api-docs "Notifications", example 1): no reading. */
export const shellySwitchToggled: DocumentedPayload = {
  what: 'Shelly Pro 4PM NotifyStatus, switch:0 output (shelly-api-docs.shelly.cloud gen2 Notifications, example 1)',
  topic: 'shellypro4pm-f008d1d8b8b8/events/rpc',
  payload:
    '{"src":"shellypro4pm-f008d1d8b8b8","dst":"user_1","method":"NotifyStatus","params":{"ts":1631186545.04,"switch:0":{"id":0,"output":true,"source":"button"}}}',
  expected: [],
};

/** ESPHome 2026.8 on an ESP32 with an SHT3x: the discovery config it publishes (retained), abbreviated keys. */
export const esphomeDiscovery: DocumentedPayload = {
  what: 'ESPHome discovery config for a temperature sensor (captured from an ESPHome 2026.8.0 device)',
  topic: 'homeassistant/sensor/garagedoor1/garage_temperature/config',
  payload:
    '{"sug_dsp_prc":1,"unit_of_meas":"°C","stat_cla":"measurement","name":"Garage Temperature","dev_cla":"temperature","stat_t":"garagedoor1/sensor/garage_temperature/state","avty_t":"garagedoor1/status","uniq_id":"ESPsensorgarage_temperature","dev":{"ids":"20500de464ec","name":"GarageDoor1","mdl":"esp32","mf":"Espressif"}}',
  retain: true,
  expected: [],
};

export const esphomeState: DocumentedPayload = {
  what: 'ESPHome plain state of that sensor (esphome.io MQTT component: <node>/sensor/<object id>/state)',
  topic: 'garagedoor1/sensor/garage_temperature/state',
  payload: '21.4',
  expected: [{ sensor: 'garagedoor1', metric: 'garage_temperature', value: 21.4, unit: 'C' }],
};

/** An ESPHome state without a discovery config: the hub's default unit for the metric. */
export const esphomeUndiscovered: DocumentedPayload = {
  what: 'ESPHome plain state with no discovery config (discovery: false)',
  topic: 'livingroom/sensor/humidity/state',
  payload: '48.25',
  expected: [{ sensor: 'livingroom', metric: 'humidity', value: 48.25, unit: '%' }],
};
