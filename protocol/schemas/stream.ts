/**
 * `GET /api/v1/stream` (PROTOCOL.md §2 "Live stream"): the messages on the WebSocket. The
 * client sends `subscribe`; the hub answers `subscribed`, then sends `reading`s, `dropped` when
 * the client fell behind, and `error` for a subscribe it refuses.
 */
import { Type } from '@sinclair/typebox';
import { closed, Count } from './common.ts';
import { FilterFields } from './filters.ts';
import { Reading } from './readings.ts';

export const DEFAULT_REPLAY = 10;
/** a larger `replay` is taken as this, not refused */
export const MAX_REPLAY = 1000;

/** Client to hub. A new subscribe replaces the previous one; a refused one leaves it as it was. */
export const SubscribeMessage = closed({
  type: Type.Literal('subscribe', { errorMessage: 'must be "subscribe": the only message a client sends' }),
  ...FilterFields,
  /** stored readings to send first; absent or null: DEFAULT_REPLAY; over MAX_REPLAY: MAX_REPLAY */
  replay: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { errorMessage: 'must be a whole number of readings' })),
  /**
   * true: readings come as `readings` messages, as many as are ready in each (an addition to
   * the contract, for clients that pay per message, such as a browser); absent or false: each
   * reading its own message, as the contract says
   */
  batch: Type.Optional(Type.Boolean({ errorMessage: 'must be true or false' })),
});

export const SubscribedMessage = Type.Object({ type: Type.Literal('subscribed'), replayed: Count });
export const ReadingMessage = Type.Composite([Type.Object({ type: Type.Literal('reading') }), Reading]);
/** Only to a subscriber that asked for `batch`: the reading messages ready at once, oldest first. */
export const ReadingsMessage = Type.Object({ type: Type.Literal('readings'), readings: Type.Array(ReadingMessage) });
export const DroppedMessage = Type.Object({ type: Type.Literal('dropped'), count: Count });
/** A refused subscribe; with `forbidden_room` or an ended login, the hub then closes with 1008. */
export const StreamErrorMessage = Type.Object({ type: Type.Literal('error'), code: Type.String(), message: Type.String() });

/** by `type`: the hub's messages a client knows. A client skips a type it does not know (a newer hub's). */
export const HUB_STREAM_MESSAGES = {
  subscribed: SubscribedMessage,
  reading: ReadingMessage,
  dropped: DroppedMessage,
  error: StreamErrorMessage,
} as const;
