/**
 * One MQTT 5 client connection to the user's broker, on mqtt-packet (mqtt.js's own codec), kept
 * up with reconnects (exponential backoff with jitter) until stop().
 *
 * Why not mqtt.js's client: it hands a connection's messages over one at a time and sends each
 * PUBACK when its handler calls back, so with a PUBACK held until the commit that stores the
 * message, one connection did one message per commit (19 messages/s with 50 ms commits; 500
 * connections with a shared subscription, 10,000 messages/s here). This link parses every
 * message that arrives, lets the bridge commit many of them together, and sends the PUBACKs of
 * a commit in one write, in the order their messages arrived (MQTT 5 §4.6). How many messages
 * it holds unacknowledged is bounded by the Receive Maximum it announces (the broker sends no
 * more) and by `maxHeldBytes` (past it the socket is paused, so the broker keeps the rest).
 *
 * A QoS 1 message is acknowledged only through settle(): until then the broker keeps it and,
 * after any reconnect, delivers it again. Settling a message of a connection that has since
 * been lost does nothing: its new delivery is settled instead.
 */
import type { Socket } from 'node:net';
import mqttPacket, { type ISubscription, type Packet } from 'mqtt-packet';
import type { BrokerAddress } from './broker-address.ts';
import { connackRefusal, subackRefusal } from './broker-refusals.ts';
import { connectPacket, openBrokerSocket, PROTOCOL } from './broker-socket.ts';
import { HeldMessages, type Held } from './held-messages.ts';
import { PacketReader, type PublishView } from './packet-reader.ts';

export type { Held } from './held-messages.ts';

export interface LinkOptions {
  broker: BrokerAddress;
  clientId: string;
  /** false: a persistent session the broker keeps (and queues for) while the link is down */
  cleanStart: boolean;
  /** subscribed on every connect (a persistent session keeps them too; subscribing again is harmless) */
  subscriptions: ISubscription[];
  /** subscribed once per connect and at once unsubscribed: what the broker retains for them is sent (see mqtt-bridge.ts) */
  probes?: string[];
  receiveMaximum: number;
  /** the largest packet the broker may send; larger ones it drops for this client */
  maximumPacketBytes: number;
  maxHeldBytes: number;
  keepaliveS: number;
  connectTimeoutMs: number;
  reconnectFirstMs: number;
  reconnectMaxMs: number;
}

export interface LinkEvents {
  /** A message arrived; the bridge settles `held` once its readings are committed (or refused). */
  message(link: MqttLink, topic: string, payload: Buffer, retain: boolean, held: Held): void;
  /** Connected and its subscriptions acknowledged; `sessionPresent`: the broker had kept this client's session. */
  up(link: MqttLink, sessionPresent: boolean): void;
  /** The probes' SUBACK has arrived and a ping after it was answered: their retained messages are in. */
  probed?(link: MqttLink): void;
  down(link: MqttLink, reason: string): void;
  /** A refusal worth the operator's attention (bad credentials, a subscription refused). */
  problem(link: MqttLink, message: string): void;
}

export class MqttLink {
  private socket: Socket | null = null;
  private generation = 0;
  /** the messages of the current connection the bridge is not done with */
  private readonly held: HeldMessages;
  private paused = false;
  private nextPacketId = 1;
  private stopping = false;
  private connected = false;
  private subscribed = false;
  private sessionPresent = false;
  /** the packet id of the SUBSCRIBE whose SUBACK makes the link up */
  private upOn: number | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private awaitingPong = false;
  private probeMarker: number | null = null;
  private connectTimer: NodeJS.Timeout | null = null;
  /** a flush of the settled PUBACKs is queued for the end of this turn */
  private flushQueued = false;
  /** by packet id: the filters of a SUBSCRIBE waiting for its SUBACK */
  private readonly subscribeIds = new Map<number, string[]>();
  /** connection attempts since the last one that succeeded */
  private attempt = 0;
  /** acknowledgements written since start, and messages taken */
  readonly stats = { messages: 0, acks: 0, connects: 0 };

  constructor(
    readonly options: LinkOptions,
    private readonly events: LinkEvents,
  ) {
    this.held = new HeldMessages(options.receiveMaximum, options.maxHeldBytes);
  }

  /** Connected, and its subscriptions acknowledged by the broker. */
  get isUp(): boolean {
    return this.connected && this.subscribed;
  }

  start(): void {
    this.stopping = false;
    this.open();
  }

  /**
   * Acknowledges `h` once every message that arrived before it on its connection is acknowledged
   * too. The PUBACKs settled in one turn of the event loop go out in one write.
   */
  settle(h: Held): void {
    if (h.settled) return;
    h.settled = true;
    if (h.generation !== this.generation || this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(this.flushAcks);
  }

  private readonly flushAcks = (): void => {
    this.flushQueued = false;
    const acks = this.held.takeAcks();
    if (acks !== null) {
      this.stats.acks += acks.length / 4;
      this.socket?.write(acks);
    }
    if (this.paused && this.held.roomy) {
      this.paused = false;
      this.socket?.resume();
    }
  };

  /** Whether `h` arrived on the connection the link has now: a message of a lost one will be delivered again. */
  isCurrent(h: Held): boolean {
    return h.generation === this.generation;
  }

  /** Drops the connection (the broker keeps what is unacknowledged) and reconnects after `afterMs`. */
  restart(reason: string, afterMs: number): void {
    if (this.stopping) return;
    this.lost(reason);
    this.scheduleReconnect(afterMs);
  }

  /** Says goodbye (DISCONNECT: a persistent session stays with the broker) and closes; no reconnect. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const socket = this.socket;
    if (socket === null) return;
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    if (this.connected) socket.end(mqttPacket.generate({ cmd: 'disconnect', reasonCode: 0 }, PROTOCOL));
    else socket.destroy();
    const timer = setTimeout(() => socket.destroy(), 2_000);
    await closed;
    clearTimeout(timer);
  }

  private open(): void {
    const { broker, connectTimeoutMs } = this.options;
    const generation = ++this.generation;
    const socket = openBrokerSocket(broker);
    this.socket = socket;
    const reader = new PacketReader(
      (p) => {
        if (this.generation === generation) this.onPublish(p, generation);
      },
      (p) => {
        if (this.generation === generation) this.onPacket(p);
      },
      (message) => {
        if (this.generation === generation) this.restart(`the broker sent a malformed packet (${message})`, this.nextDelay());
      },
      this.options.maximumPacketBytes,
    );
    this.connectTimer = setTimeout(() => this.restart(`no CONNACK within ${connectTimeoutMs} ms`, this.nextDelay()), connectTimeoutMs);
    socket.once('ready', () => socket.write(connectPacket(broker, this.options)));
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    let failure = '';
    // 'close' follows and says what happened; a certificate the CA did not sign is the operator's to fix
    socket.on('error', (err: NodeJS.ErrnoException) => {
      failure = err.code ?? err.message;
      if (broker.tls && /CERT|SELF_SIGNED|HOSTNAME|ALTNAME/.test(failure))
        this.events.problem(
          this,
          `the broker's TLS certificate is refused (${err.message}): give its CA with --mqtt-ca, or connect by the name it is issued to`,
        );
    });
    socket.once('close', () => {
      if (this.generation !== generation) return;
      this.lost(failure ? `the connection failed (${failure})` : 'the broker closed the connection');
      if (!this.stopping) this.scheduleReconnect(this.nextDelay());
    });
  }

  private onPacket(p: Packet): void {
    switch (p.cmd) {
      case 'connack': {
        this.clearConnectTimer();
        const code = p.reasonCode ?? p.returnCode ?? 0;
        if (code !== 0) {
          this.events.problem(this, connackRefusal(code));
          return this.restart(`refused (0x${code.toString(16)})`, this.options.reconnectMaxMs);
        }
        this.connected = true;
        this.stats.connects++;
        this.attempt = 0;
        this.subscribe(p.sessionPresent);
        this.startPings(p.properties?.serverKeepAlive ?? this.options.keepaliveS);
        return;
      }
      case 'suback':
        return this.onSuback(p.messageId ?? 0, p.granted as number[]);
      case 'pingresp':
        this.awaitingPong = false;
        if (this.probeMarker !== null) {
          this.probeMarker = null;
          this.events.probed?.(this);
        }
        return;
      case 'disconnect':
        return this.restart(
          `the broker disconnected (reason 0x${(p.reasonCode ?? 0).toString(16)}${p.properties?.reasonString ? `: ${p.properties.reasonString}` : ''})`,
          this.nextDelay(),
        );
      default:
        return; // unsuback, and nothing else is sent to a subscriber
    }
  }

  private onPublish(p: PublishView, generation: number): void {
    this.stats.messages++;
    const payload = p.payload;
    // QoS 0 messages are held too (the broker sends them regardless of the Receive Maximum): both
    // bounds count them, so a hub that cannot commit stops reading instead of piling them up.
    const held = this.held.add(p.qos > 0 ? p.messageId : 0, payload.length + p.topic.length, generation);
    if (!this.paused && this.held.full) {
      this.paused = true;
      this.socket?.pause();
    }
    this.events.message(this, p.topic, payload, p.retain, held);
  }

  private subscribe(sessionPresent: boolean): void {
    const { subscriptions, probes } = this.options;
    this.sessionPresent = sessionPresent;
    if (subscriptions.length > 0) {
      this.upOn = this.packetId(subscriptions.map((s) => s.topic));
      this.send({ cmd: 'subscribe', messageId: this.upOn, subscriptions });
    }
    if (probes && probes.length > 0) {
      const probeSubs = probes.map((topic) => ({ topic, qos: 0 as const, rh: 0 }));
      this.send({ cmd: 'subscribe', messageId: this.packetId(probes), subscriptions: probeSubs });
      // The broker sends what it retains for a subscription right after its SUBACK, before it
      // reads on: unsubscribing at once leaves those messages on their way, and no live traffic.
      this.send({ cmd: 'unsubscribe', messageId: this.packetId([]), unsubscriptions: probes });
      this.probeMarker = this.generation;
      this.send({ cmd: 'pingreq' });
    }
    if (this.upOn === null) this.markUp();
  }

  /** Subscribed: messages published from now on reach this link's session. */
  private markUp(): void {
    this.upOn = null;
    this.subscribed = true;
    this.events.up(this, this.sessionPresent);
  }

  private onSuback(id: number, granted: number[]): void {
    const filters = this.subscribeIds.get(id) ?? [];
    this.subscribeIds.delete(id);
    if (id === this.upOn) this.markUp();
    granted.forEach((code, i) => {
      if (code >= 0x80) this.events.problem(this, subackRefusal(filters[i] ?? '?', code));
    });
  }

  private packetId(filters: string[]): number {
    const id = this.nextPacketId;
    this.nextPacketId = (this.nextPacketId % 0xffff) + 1;
    if (filters.length > 0) this.subscribeIds.set(id, filters);
    return id;
  }

  private send(p: Packet): void {
    this.socket?.write(mqttPacket.generate(p, PROTOCOL));
  }

  private startPings(keepaliveS: number): void {
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (keepaliveS <= 0) return;
    this.pingTimer = setInterval(() => {
      if (this.awaitingPong) return this.restart(`no PINGRESP within ${keepaliveS} s`, this.nextDelay());
      this.awaitingPong = true;
      this.send({ cmd: 'pingreq' });
    }, keepaliveS * 1000);
    this.pingTimer.unref();
  }

  private clearConnectTimer(): void {
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.connectTimer = null;
  }

  private lost(reason: string): void {
    this.clearConnectTimer();
    const wasUp = this.connected;
    this.connected = false;
    this.subscribed = false;
    this.upOn = null;
    this.generation++;
    this.held.clear();
    this.paused = false;
    this.awaitingPong = false;
    this.probeMarker = null;
    this.subscribeIds.clear();
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
    const s = this.socket;
    this.socket = null;
    s?.destroy();
    if (wasUp || !this.stopping) this.events.down(this, reason);
  }

  /** Exponential backoff with jitter: many hubs (or links) that lost one broker do not all come back at once. */
  private nextDelay(): number {
    const { reconnectFirstMs, reconnectMaxMs } = this.options;
    const ms = Math.min(reconnectMaxMs, reconnectFirstMs * 2 ** Math.min(this.attempt++, 16));
    return Math.round(ms * (0.5 + Math.random() / 2));
  }

  private scheduleReconnect(ms: number): void {
    if (this.stopping || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.stopping) this.open();
    }, ms);
  }
}
