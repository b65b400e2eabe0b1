/** A WebSocket message's text: ws gives a Buffer, fragments as Buffer[], or an ArrayBuffer. */
import type { RawData } from 'ws';

export function wsText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString('utf8');
}
