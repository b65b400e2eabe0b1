/**
 * Splits what the broker sends into MQTT packets, and reads PUBLISH itself: at 50,000 messages a
 * second, mqtt-packet's general parser (a BufferList, a copy and a property object per packet)
 * cost about 12 µs a message here, this about 1. Every other packet (CONNACK, SUBACK, PINGRESP,
 * DISCONNECT, ...) is rare and goes to mqtt-packet whole.
 *
 * A payload is a view of the bytes received, not a copy: the bridge maps it at once and keeps
 * only the readings.
 */
import mqttPacket, { type Packet } from 'mqtt-packet';

export interface PublishView {
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
  /** 0 for QoS 0 */
  messageId: number;
}

export class PacketReader {
  private rest: Buffer | null = null;
  private readonly general = mqttPacket.parser({ protocolVersion: 5 });

  constructor(
    private readonly onPublish: (p: PublishView) => void,
    onOther: (p: Packet) => void,
    /** a packet that breaks the protocol: the connection must be dropped */
    private readonly onError: (message: string) => void,
    private readonly maxPacketBytes: number,
  ) {
    this.general.on('packet', onOther);
    this.general.on('error', (err: Error) => onError(err.message));
  }

  push(chunk: Buffer): void {
    const buf = this.rest === null ? chunk : Buffer.concat([this.rest, chunk]);
    this.rest = null;
    let at = 0;
    while (at < buf.length) {
      // Fixed header: type and flags, then the remaining length as 1 to 4 bytes of 7 bits.
      let length = 0;
      let shift = 0;
      let i = at + 1;
      let complete = false;
      for (; i < buf.length && i < at + 5; i++) {
        const b = buf[i]!;
        length += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if ((b & 0x80) === 0) {
          complete = true;
          i++;
          break;
        }
      }
      if (!complete) {
        if (i >= at + 5) return this.onError('a remaining length longer than 4 bytes');
        break;
      }
      if (length > this.maxPacketBytes) return this.onError(`a packet of ${length} bytes, over the ${this.maxPacketBytes} announced`);
      const end = i + length;
      if (end > buf.length) break;
      const first = buf[at]!;
      if (first >> 4 === 3) {
        if (!this.publish(buf, first, i, end)) return;
      } else this.general.parse(buf.subarray(at, end));
      at = end;
    }
    if (at < buf.length) this.rest = Buffer.from(buf.subarray(at));
  }

  /** A PUBLISH (MQTT 5 §3.3): topic, packet id when QoS > 0, properties (skipped), payload. */
  private publish(buf: Buffer, first: number, from: number, end: number): boolean {
    const qos = (first >> 1) & 3;
    if (qos === 3) {
      this.onError('a PUBLISH with QoS 3');
      return false;
    }
    let o = from;
    const topicLength = end - o >= 2 ? buf.readUInt16BE(o) : -1;
    if (topicLength < 0 || o + 2 + topicLength + (qos > 0 ? 2 : 0) > end) {
      this.onError('a PUBLISH whose topic overruns it');
      return false;
    }
    o += 2;
    const topic = buf.toString('utf8', o, o + topicLength);
    o += topicLength;
    let messageId = 0;
    if (qos > 0) {
      messageId = buf.readUInt16BE(o);
      o += 2;
    }
    // Properties: a variable byte integer length, then that many bytes. The bridge announces no
    // topic aliases, so none of them changes what the message means to it.
    let propsLength = 0;
    let shift = 0;
    for (;;) {
      if (o >= end) {
        this.onError('a PUBLISH cut short in its properties');
        return false;
      }
      const b = buf[o++]!;
      propsLength += (b & 0x7f) * 2 ** shift;
      shift += 7;
      if ((b & 0x80) === 0) break;
    }
    o += propsLength;
    if (o > end || topicLength === 0) {
      this.onError(
        topicLength === 0 ? 'a PUBLISH without a topic (an alias the bridge did not allow)' : 'a PUBLISH whose parts overrun it',
      );
      return false;
    }
    this.onPublish({ topic, payload: buf.subarray(o, end), qos, retain: (first & 1) === 1, messageId });
    return true;
  }
}
