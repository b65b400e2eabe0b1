/**
 * The wire messages of the sensor protocol (PROTOCOL.md §1), one JSON object per line.
 * Types here are what a message is after validation (see decode.ts).
 */

export interface ReadingInput {
  metric: string;
  value: number;
  unit?: string;
  ts?: number;
}

export interface MetricDeclaration {
  metric: string;
  unit: string;
}

export type CommandId = string;

/** Sensor to hub. */
export type SensorMessage =
  | { type: 'hello'; v: number; sensor: string; room?: string; token?: string; metrics?: MetricDeclaration[] }
  | { type: 'reading'; metric: string; value: number; unit?: string; ts?: number; seq?: number }
  | { type: 'batch'; readings: ReadingInput[]; seq?: number }
  | { type: 'report'; id: CommandId; readings: ReadingInput[]; seq?: number }
  | { type: 'ping'; id?: string | number }
  | { type: 'bye' }
  | { type: 'error'; code: number; message: string; id?: CommandId };

/** Hub to sensor. */
export type HubMessage =
  | { type: 'welcome'; v: 1; sensor: string; time: number }
  | { type: 'ack'; seq: number }
  | { type: 'command'; id: CommandId; command: 'report-now' }
  | { type: 'pong'; time: number; id?: string | number }
  | { type: 'error'; code: number; message: string; seq?: number; index?: number; id?: CommandId };

export type SensorMessageType = SensorMessage['type'];
export type HubMessageType = HubMessage['type'];

/** One line on the wire, with its end. */
export function encodeLine(message: SensorMessage | HubMessage): string {
  return JSON.stringify(message) + '\n';
}
