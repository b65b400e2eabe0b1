/**
 * The MQTT bridge: subscribes to the user's broker and stores what devices publish there, through
 * the same commit path as a sensor's readings (hub/ingest/batch-ingest.ts). A QoS 1 message is
 * acknowledged to the broker only after the commit that holds its readings, so a hub that is
 * down or killed loses nothing the broker kept: the broker delivers it again.
 *
 * Links (hub/mqtt/mqtt-link.ts), each an MQTT 5 connection:
 * - `<client id>-0` .. `-<N-1>`: persistent sessions (the broker queues for them while the hub
 *   is down) sharing one subscription `$share/<client id>/<filter>` of every mapped topic at
 *   QoS 1 (with N = 1, a plain subscription, for brokers without shared subscriptions). Their
 *   messages are collected over each turn of the event loop and submitted together, so one
 *   commit covers thousands of messages;
 * - `<client id>-control`: a clean session for what is not history: Home Assistant discovery
 *   configs (units for ESPHome), and the retained states of the mapped topics, which update
 *   latest only (hub/mqtt/retained-latest.ts). The data links start once it has these, so
 *   the states the broker queued while the hub was down find their units.
 *
 * The bridge acts as the operator who configured it: it may write any sensor, in the room the
 * mapping file gives (else the sensor's known room, else `default`). Who may publish what is
 * the broker's to decide (its ACLs): see docs/INTEGRATIONS.md "Who may publish".
 */
import type { Logger } from 'pino';
import type { BatchIngest, ExternalReading, Rights } from '../ingest/batch-ingest.ts';
import type { SeriesCatalog } from '../ingest/series-catalog.ts';
import type { SensorRegistry } from '../sensors/sensor-registry.ts';
import { BatchSubmitter } from './batch-submitter.ts';
import type { BrokerAddress } from './broker-address.ts';
import type { MqttMap } from './map-file.ts';
import { MessageMapper } from './message-mapper.ts';
import { MqttLink, type Held, type LinkEvents, type LinkOptions } from './mqtt-link.ts';
import { MqttStats, type RefusalReason } from './mqtt-stats.ts';
import { RetainedLatest } from './retained-latest.ts';

export interface MqttBridgeConfig {
  broker: BrokerAddress;
  /** the links' client ids start with it; it names the shared subscription's group too */
  clientId: string;
  /** data links sharing the subscription */
  connections: number;
  map: MqttMap;
  /** messages each data link holds unacknowledged at most (MQTT 5 Receive Maximum) */
  receiveMaximum: number;
  /** payload bytes each link holds at most; past it the link stops reading */
  maxHeldBytes: number;
  keepaliveS: number;
}

export interface MqttBridgeDeps {
  ingest: BatchIngest;
  catalog: SeriesCatalog;
  registry: SensorRegistry;
  now(): number;
  log: Logger;
}

/** The operator configured the bridge: it writes as them (see the header). */
export const BRIDGE_RIGHTS: Rights = { who: 'mqtt bridge', refusal: () => null };

const MAX_PACKET_BYTES = 256 * 1024;
/** how long the data links wait for the control link's discovery configs before starting anyway */
const CONTROL_WAIT_MS = 5_000;
/** a refusal reason is logged at warn at most this often; the counters have them all */
const WARN_EVERY_MS = 60_000;
/** what a refusal's log line quotes at most of the topic and of the detail */
const MAX_LOGGED_TOPIC_CHARS = 200;
const MAX_LOGGED_DETAIL_CHARS = 300;
const MAX_STAMPED_SENSORS = 100_000;

export class MqttBridge {
  readonly stats = new MqttStats();
  readonly mapper: MessageMapper;
  private readonly retained: RetainedLatest;
  private readonly control: MqttLink;
  private readonly data: MqttLink[] = [];
  private readonly submitter: BatchSubmitter;
  private dataStarted = false;
  private controlWait: NodeJS.Timeout | null = null;
  private stopping = false;
  /** by sensor id: the ts the bridge last stamped on a message of it (see stampArrival) */
  private readonly stamped = new Map<string, number>();
  /** by reason: when it was last logged at warn */
  private readonly warnedAt = new Map<string, number>();

  constructor(
    private readonly config: MqttBridgeConfig,
    private readonly deps: MqttBridgeDeps,
  ) {
    this.mapper = new MessageMapper(config.map);
    this.retained = new RetainedLatest({ ...deps, growth: deps.ingest.growth });
    this.submitter = new BatchSubmitter({
      ingest: deps.ingest,
      rights: BRIDGE_RIGHTS,
      stats: this.stats,
      refuse: (reason, topic, detail, n) => this.refuse(reason, topic, detail, n),
      holding: (messages, retryInMs, reason) =>
        this.warn(
          'store_unavailable',
          { messages, retryInMs, reason },
          'mqtt: the hub cannot take readings now; holding the messages unacknowledged',
        ),
    });
    const filters = this.mapper.filters;
    const discovery = this.mapper.discovery?.filters ?? [];
    const shared = config.connections > 1;
    const base: Omit<LinkOptions, 'clientId' | 'cleanStart' | 'subscriptions'> = {
      broker: config.broker,
      receiveMaximum: config.receiveMaximum,
      maximumPacketBytes: MAX_PACKET_BYTES,
      maxHeldBytes: config.maxHeldBytes,
      keepaliveS: config.keepaliveS,
      connectTimeoutMs: 10_000,
      reconnectFirstMs: 500,
      reconnectMaxMs: 30_000,
    };
    const events = this.linkEvents();
    this.control = new MqttLink(
      {
        ...base,
        clientId: `${config.clientId}-control`,
        cleanStart: true,
        subscriptions: discovery.map((topic) => ({ topic, qos: 0 as const })),
        probes: filters,
      },
      events,
    );
    for (let i = 0; i < config.connections; i++) {
      // Retain handling 2: no retained messages at subscribe (the control link has them, for latest only).
      const subscriptions = filters.map((f) => ({ topic: shared ? `$share/${config.clientId}/${f}` : f, qos: 1 as const, rh: 2 }));
      this.data.push(new MqttLink({ ...base, clientId: `${config.clientId}-${i}`, cleanStart: false, subscriptions }, events));
    }
  }

  /** Data links connected now. */
  get connectedLinks(): number {
    return this.data.filter((l) => l.isUp).length + (this.control.isUp ? 1 : 0);
  }

  start(): void {
    this.deps.log.info(
      { broker: this.config.broker.display, links: this.config.connections, filters: this.mapper.filters },
      'mqtt bridge starting',
    );
    this.control.start();
    this.controlWait = setTimeout(() => this.startData(), CONTROL_WAIT_MS);
  }

  /**
   * Takes no more, waits for the submits under way (their PUBACKs go out), then disconnects.
   * What was received and not yet submitted is not acknowledged: the broker delivers it again.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.controlWait) clearTimeout(this.controlWait);
    await this.submitter.stop();
    await Promise.all([this.control, ...this.data].map((l) => l.stop()));
  }

  private startData(): void {
    if (this.controlWait) clearTimeout(this.controlWait);
    this.controlWait = null;
    if (this.dataStarted || this.stopping) return;
    this.dataStarted = true;
    for (const l of this.data) l.start();
  }

  private linkEvents(): LinkEvents {
    return {
      message: (link, topic, payload, retain, held) => this.onMessage(link, topic, payload, retain, held),
      up: (link, sessionPresent) => this.deps.log.info({ client: link.options.clientId, sessionPresent }, 'mqtt link up'),
      probed: () => this.startData(),
      down: (link, reason) => {
        if (!this.stopping) this.deps.log.warn({ client: link.options.clientId, reason }, 'mqtt link down; reconnecting');
      },
      problem: (link, message) => this.deps.log.error({ client: link.options.clientId, broker: this.config.broker.display }, message),
    };
  }

  private onMessage(link: MqttLink, topic: string, payload: Buffer, retain: boolean, held: Held): void {
    if (link === this.control) {
      this.onControl(topic, payload, retain);
      link.settle(held);
      return;
    }
    if (retain) {
      // A plain subscription (one link) gets the retained states at subscribe: latest only, as on the control link.
      this.offerRetained(topic, payload);
      link.settle(held);
      return;
    }
    const routed = this.mapper.route(topic, payload);
    if (routed.kind !== 'readings') {
      if (routed.kind === 'refused') this.refuse(routed.reason, topic, routed.detail);
      this.stats.message(routed.kind);
      link.settle(held);
      return;
    }
    this.stampArrival(routed.readings);
    if (routed.badNames.length > 0)
      this.refuse('invalid_name', topic, `fields with no valid metric name: ${routed.badNames.join(', ')}`, routed.badNames.length);
    this.submitter.add({ link, held, readings: routed.readings, topic });
  }

  /**
   * Readings without the device's time get the time the hub received them, but at least 1 ms
   * after the previous message of that sensor: a burst (the backlog the broker kept while the
   * hub was down) would otherwise share one ms, and all but one be taken for duplicates.
   */
  private stampArrival(readings: ExternalReading[]): void {
    const first = readings[0];
    if (first === undefined || first.ts !== undefined) return;
    const now = this.deps.now();
    const last = this.stamped.get(first.sensor);
    const ts = last !== undefined && last >= now ? last + 1 : now;
    // Bounded: forgetting every sensor at once risks only a collision within one ms.
    if (last === undefined && this.stamped.size >= MAX_STAMPED_SENSORS) this.stamped.clear();
    this.stamped.set(first.sensor, ts);
    for (const r of readings) r.ts = ts;
  }

  private onControl(topic: string, payload: Buffer, retain: boolean): void {
    const discovery = this.mapper.discovery;
    if (discovery?.isConfigTopic(topic)) {
      const dropped = discovery.dropped;
      if (discovery.accept(topic, payload)) this.stats.discoveryConfigs++;
      else if (discovery.dropped > dropped)
        this.refuse('discovery_full', topic, 'the discovery index is full: this config is not kept, its state topic gets default units');
      return;
    }
    // Live messages reach the control link only in the moment its probes are subscribed; the data links store them.
    if (retain) this.offerRetained(topic, payload);
  }

  private offerRetained(topic: string, payload: Buffer): void {
    const routed = this.mapper.route(topic, payload);
    if (routed.kind !== 'readings') {
      if (routed.kind === 'refused') this.refuse(routed.reason, topic, routed.detail);
      this.stats.message(routed.kind === 'refused' ? 'refused' : 'ignored');
      return;
    }
    const { taken, refused } = this.retained.offer(routed.readings, BRIDGE_RIGHTS);
    this.stats.readingsRetained += taken;
    for (const reason of refused)
      this.refuse(
        reason,
        topic,
        reason === 'limit'
          ? 'a retained reading of a new sensor or series past the hub’s limits'
          : 'a retained reading breaks the contract’s rules',
      );
    this.stats.message('retained');
  }

  private refuse(reason: RefusalReason, topic: string, detail: string, n = 1): void {
    this.stats.refusal(reason, n);
    // A topic may be 64 KiB and a detail quotes the payload's names: the log line quotes a bounded part of each.
    this.warn(
      reason,
      { topic: capped(topic, MAX_LOGGED_TOPIC_CHARS), reason, detail: capped(detail, MAX_LOGGED_DETAIL_CHARS) },
      'mqtt message refused (counted in /metrics; the next such refusal is logged at debug for a minute)',
    );
  }

  private warn(key: string, fields: Record<string, unknown>, msg: string): void {
    const now = this.deps.now();
    const last = this.warnedAt.get(key);
    if (last === undefined || now - last >= WARN_EVERY_MS) {
      this.warnedAt.set(key, now);
      this.deps.log.warn(fields, msg);
    } else this.deps.log.debug(fields, msg);
  }
}

/** `text`, or its first `max` characters and how many more there were. */
export function capped(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}... (${text.length - max} more characters)`;
}
