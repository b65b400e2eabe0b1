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
    let from = 0;
    if (this.rest !== null) {
      // Only the packet cut at the last chunk's end is copied together, never the whole chunk.
      const rest = this.rest;
      const size = packetSize(rest, 0);
      if (size === 'bad') return this.onError('a remaining length longer than 4 bytes');
      if (size !== null && size - headerBytes(rest, 0) > this.maxPacketBytes)
        return this.onError(`a packet of ${size - headerBytes(rest, 0)} bytes, over the ${this.maxPacketBytes} announced`);
      const need = size === null ? Math.min(chunk.length, 5) : size - rest.length;
      if (need > chunk.length) {
        this.rest = Buffer.concat([rest, chunk]);
        return;
      }
      this.rest = null;
      if (size === null) return this.push(Buffer.concat([rest, chunk]));
      if (!this.packets(Buffer.concat([rest, chunk.subarray(0, need)]), 0)) return;
      from = need;
    }
    this.packets(chunk, from);
  }

  /** Reads the whole packets of `buf` from `from`, keeping a cut one; false after an error. */
  private packets(buf: Buffer, from: number): boolean {
    let at = from;
    while (at < buf.length) {
      const size = packetSize(buf, at);
      if (size === 'bad') {
        this.onError('a remaining length longer than 4 bytes');
        return false;
      }
      if (size === null) break;
      const header = headerBytes(buf, at);
      // Checked before the packet is complete: an oversized one is never gathered.
      if (size - header > this.maxPacketBytes) {
        this.onError(`a packet of ${size - header} bytes, over the ${this.maxPacketBytes} announced`);
        return false;
      }
      if (at + size > buf.length) break;
      const end = at + size;
      const first = buf[at]!;
      if (first >> 4 === 3) {
        if (!this.publish(buf, first, at + header, end)) return false;
      } else this.general.parse(buf.subarray(at, end));
      at = end;
    }
    if (at < buf.length) this.rest = Buffer.from(buf.subarray(at));
    return true;
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

/**
 * The fixed header at `at` (MQTT 5 §1.5.5: a byte, then the remaining length as 1 to 4 bytes of
 * 7 bits): its size, 0 while it is cut short, -1 when its length runs over 4 bytes. No object
 * is made: this runs for every packet.
 */
function headerBytes(buf: Buffer, at: number): number {
  for (let i = at + 1; i < buf.length && i < at + 5; i++) if ((buf[i]! & 0x80) === 0) return i + 1 - at;
  return buf.length - at >= 5 ? -1 : 0;
}

function remainingLength(buf: Buffer, at: number, header: number): number {
  let length = 0;
  for (let i = 1; i < header; i++) length += (buf[at + i]! & 0x7f) * 2 ** (7 * (i - 1));
  return length;
}

/** The whole packet's size at `at`; null while its header is cut short, 'bad' for a header over 4 length bytes. */
function packetSize(buf: Buffer, at: number): number | null | 'bad' {
  const header = headerBytes(buf, at);
  if (header > 0) return header + remainingLength(buf, at, header);
  return header < 0 ? 'bad' : null;
}
