/**
 * Stream messages as WebSocket frames (RFC 6455 §5.2: final, unmasked, text), built as "binary"
 * strings, one character per byte, and turned into bytes with the latin1 encoding once per block
 * of frames (stream-log.ts), which every subscriber of the same filters then writes as it is. The contract's reading
 * message is built from a per-series prefix, cached, so a reading costs two numbers turned into
 * text. JavaScript writes a finite number as JSON does.
 */
import type { SeriesCatalog } from '../ingest/series-catalog.ts';

/** A UTF-8 text as a binary string: each byte one character. */
function bytes(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** The header of a final, unmasked text frame of `n` bytes, as a binary string. */
function frameHeader(n: number): string {
  if (n < 126) return '\x81' + String.fromCharCode(n);
  if (n < 65_536) return '\x81\x7e' + String.fromCharCode(n >> 8, n & 255);
  // A reading's names and unit are bounded far below this; kept whole for any other message.
  const head = Buffer.alloc(10);
  head[0] = 0x81;
  head[1] = 127;
  head.writeBigUInt64BE(BigInt(n), 2);
  return head.toString('latin1');
}

/** The frame of a text message whose UTF-8 bytes are `body` (a binary string). */
export function frameOf(body: string): string {
  return frameHeader(body.length) + body;
}

const BATCH_OPEN = '{"type":"readings","readings":[';
/** what closes a `readings` message after its elements */
export const BATCH_CLOSE = Buffer.from(']}', 'latin1');

/**
 * Reading messages joined by commas as one `{"type":"readings","readings":[...]}` frame: a
 * subscriber that asked for batches gets one message per socket write, not one per reading (a
 * browser spends far more per message it is handed than per byte). This is the frame up to the
 * first element, for elements of `bodiesBytes` bytes in all; BATCH_CLOSE ends it.
 */
export function batchFrameHead(bodiesBytes: number): Buffer {
  return Buffer.from(frameHeader(BATCH_OPEN.length + bodiesBytes + BATCH_CLOSE.length) + BATCH_OPEN, 'latin1');
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
    return frameOf(this.body(seriesId, ts, value));
  }

  /** The contract's reading message, unframed: an element of a `readings` message (batchFrameHead). */
  body(seriesId: number, ts: number, value: number): string {
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
    return p.head + value + p.mid + ts + '}';
  }
}
