/**
 * What the MQTT bridge took and refused, for `/metrics` (roomwatch_mqtt_*) and the logs. Message
 * outcomes and refusal reasons are fixed vocabularies (never a device's text), so the label
 * sets stay small. Readings the hub's rules refuse are counted by the inputs' own counters too
 * (hub/ingest/source-counters.ts, source `mqtt`).
 */
import type { MqttRefusal } from './mappings/mapping.ts';

/** What became of a message. */
export type MessageOutcome =
  /** its readings were committed (some may have been duplicates or refused by the hub's rules) */
  | 'stored'
  /** a retained message the broker replayed at subscribe: latest only, not history */
  | 'retained'
  /** a topic of a mapping that carries no readings (availability, commands, a state without numbers) */
  | 'ignored'
  /** no mapping knows its topic */
  | 'unmapped'
  | 'refused';

/** Why a message or a reading was refused: the mappings' reasons, and the hub's. */
export type RefusalReason =
  | MqttRefusal
  /** a reading that breaks the contract's rules after mapping (a ts over 24 h ahead, a unit too long) */
  | 'invalid'
  /** the bridge's rights do not allow the sensor or room */
  | 'forbidden'
  /** a new sensor or series past the hub's limits (--max-sensors, --max-series) */
  | 'limit'
  /** the store refused the rows themselves (answered 500 on the sensor port) */
  | 'store_refused'
  /** a Home Assistant discovery config of a new topic, not kept: the index holds its most (10,000) */
  | 'discovery_full';

export class MqttStats {
  /** by outcome */
  readonly messages = new Map<MessageOutcome, number>();
  /** by reason: messages (a mapping's reasons) and readings (the hub's) refused */
  readonly refused = new Map<RefusalReason, number>();
  readingsStored = 0;
  /** readings put into latest from retained messages */
  readingsRetained = 0;
  /** submits the hub could not take at once (busy, or its store failing), retried later */
  submitRetries = 0;
  /** discovery configs taken */
  discoveryConfigs = 0;

  message(outcome: MessageOutcome, n = 1): void {
    this.messages.set(outcome, (this.messages.get(outcome) ?? 0) + n);
  }

  refusal(reason: RefusalReason, n = 1): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + n);
  }
}
