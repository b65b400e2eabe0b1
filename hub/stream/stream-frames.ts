/**
 * Stream messages as WebSocket frames (RFC 6455 §5.2: final, unmasked, text), built as "binary"
 * strings, one character per byte, and written with the latin1 encoding: the frames of a whole
 * socket write are concatenated as one string and copied out once. The contract's reading
 * message is built from a per-series prefix, cached, so a reading costs two numbers turned into
 * text. JavaScript writes a finite number as JSON does.
 */
import type { SeriesCatalog } from '../ingest/series-catalog.ts';

/** A UTF-8 text as a binary string: each byte one character. */
function bytes(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** The frame of a text message whose UTF-8 bytes are `body` (a binary string). */
export function frameOf(body: string): string {
  const n = body.length;
  if (n < 126) return '\x81' + String.fromCharCode(n) + body;
  if (n < 65_536) return '\x81\x7e' + String.fromCharCode(n >> 8, n & 255) + body;
  // A reading's names and unit are bounded far below this; kept whole for any other message.
  const head = Buffer.alloc(10);
  head[0] = 0x81;
  head[1] = 127;
  head.writeBigUInt64BE(BigInt(n), 2);
  return head.toString('latin1') + body;
}

/**
 * Frames of reading messages (whole, as frameOf makes them) as one frame of the message
 * `{"type":"readings","readings":[...]}`, each element the reading message as it would have gone
 * alone: a subscriber that asked for batches gets one message per socket write, not one per
 * reading (a browser spends far more per message it is handed than per byte).
 */
export function batchFrame(frames: string): string {
  const bodies: string[] = [];
  for (let i = 0; i < frames.length;) {
    const b1 = frames.charCodeAt(i + 1) & 127;
    let head = 2;
    let n = b1;
    if (b1 === 126) {
      head = 4;
      n = (frames.charCodeAt(i + 2) << 8) | frames.charCodeAt(i + 3);
    } else if (b1 === 127) {
      head = 10; // 8 bytes of length, of which a string's length fits the last 6
      n = 0;
      for (let k = 4; k < 10; k++) n = n * 256 + frames.charCodeAt(i + k);
    }
    bodies.push(frames.slice(i + head, i + head + n));
    i += head + n;
  }
  return frameOf(`{"type":"readings","readings":[${bodies.join(',')}]}`);
}

export function droppedFrame(count: number): string {
  return frameOf(`{"type":"dropped","count":${count}}`);
}

export class ReadingFrames {
  /** by series id: the message's bytes up to its value, and between value and ts */
  private readonly parts: ({ head: string; mid: string } | undefined)[] = [];

  constructor(private readonly catalog: SeriesCatalog) {}

  /** The contract's reading message, as a frame. */
  frame(seriesId: number, ts: number, value: number): string {
    let p = this.parts[seriesId];
    if (p === undefined) {
      const s = this.catalog.series[seriesId]!;
      p = {
        head: bytes(
          `{"type":"reading","sensor":${JSON.stringify(s.sensor)},"room":${JSON.stringify(s.room)},"metric":${JSON.stringify(s.metric)},"value":`,
        ),
        mid: bytes(`,"unit":${JSON.stringify(s.unit)},"ts":`),
      };
      this.parts[seriesId] = p;
    }
    return frameOf(p.head + value + p.mid + ts + '}');
  }
}
