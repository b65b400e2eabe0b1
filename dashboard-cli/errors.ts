/**
 * The CLI's failures and the exit code each one maps to (PROTOCOL.md §3: 0 done, 1 the hub
 * refused, 2 usage, 3 no connection). Tests assert the exit codes and the error classes,
 * not the wording.
 */

import { isApiErrorCode, type ApiErrorCode } from '../protocol/api-errors.ts';

export const ExitCode = {
  Done: 0,
  HubRefused: 1,
  Usage: 2,
  NoConnection: 3,
  // Not in the contract: a bug in the CLI itself must never look like an answer from the hub.
  Internal: 70,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The command line cannot be carried out as written (exit 2). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * A local file cannot be read or written (upload's FILE, history's --out), or does not hold what
 * it must (users import's FILE, credentials.json): exit 2 like a usage error, since the user must
 * fix the command line or the file, but without the usage hint.
 */
export class LocalFileError extends Error {
  override readonly name = 'LocalFileError';
}

/** The hub answered with an HTTP error status (exit 1). */
export class HubRefused extends Error {
  override readonly name = 'HubRefused';
  /**
   * The contract's error code (protocol/api-errors.ts) when it is one this CLI knows, so every
   * comparison with it is checked; absent for a code of a newer hub, or a body that was not an
   * error body.
   */
  readonly code: ApiErrorCode | undefined;
  constructor(
    readonly status: number,
    /** The code as the hub sent it (`bad_filter`, ...), shown even when this CLI does not know it. */
    readonly codeSent: string | undefined,
    message: string,
    /** Per-row problems of a refused upload (§2 "Bulk upload"), when the hub sent them. */
    readonly rows?: readonly { line: number; message: string }[],
    /** A 429's `Retry-After`, in seconds, when the hub gave one. */
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.code = isApiErrorCode(codeSent) ? codeSent : undefined;
  }
}

/**
 * What the command asks does not fit what the hub holds, as the CLI found by asking first: the
 * user to add exists already, the user to change does not (exit 1, like the hub refusing it).
 */
export class HubConflict extends Error {
  override readonly name = 'HubConflict';
}

/**
 * The hub answered 2xx, but not with what the contract promises (exit 1): the request reached
 * a hub, so this is neither a usage error nor a missing connection.
 */
export class HubBadAnswer extends Error {
  override readonly name = 'HubBadAnswer';
  constructor(
    readonly url: string,
    message: string,
  ) {
    super(message);
  }
}

/** No answer from the hub: refused, unknown host, reset, or timed out (exit 3). */
export class HubUnreachable extends Error {
  override readonly name: string = 'HubUnreachable';
  constructor(
    /** The hub's base URL, as the user should check it. */
    readonly url: string,
    /** Why, for people: "connection refused", "timed out after 10000 ms", ... */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach the hub at ${url} (${reason})`, options);
  }
}

/**
 * No secure connection to the hub (exit 3, like any missing connection): its certificate is not
 * trusted or not for this host, or it does not speak TLS. The reason says what to fix.
 */
export class HubTlsError extends HubUnreachable {
  override readonly name: string = 'HubTlsError';
}

/**
 * The hub closed the live stream (`watch`) before the CLI was done with it. A hub that went away
 * (going away, restarting, the connection lost) is "no connection" (exit 3); a hub that ended
 * this client's stream on purpose, such as 1013 for a client reading too slowly, refused (exit 1).
 */
export class StreamClosed extends Error {
  override readonly name = 'StreamClosed';
  constructor(
    /** The WebSocket close code (RFC 6455 §7.4). */
    readonly closeCode: number,
    /** The hub's reason, or a description of the code. */
    readonly reason: string,
  ) {
    super(`the hub closed the stream (${closeCode}): ${reason}`);
  }

  /** Close codes that mean the hub or the connection went away, rather than a decision about this client. */
  static readonly GONE = new Set([1001, 1005, 1006, 1012]);

  get exitCode(): ExitCode {
    return StreamClosed.GONE.has(this.closeCode) ? ExitCode.NoConnection : ExitCode.HubRefused;
  }
}

export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof StreamClosed) return error.exitCode;
  if (error instanceof UsageError || error instanceof LocalFileError) return ExitCode.Usage;
  if (error instanceof HubRefused || error instanceof HubBadAnswer || error instanceof HubConflict) return ExitCode.HubRefused;
  if (error instanceof HubUnreachable) return ExitCode.NoConnection;
  return ExitCode.Internal;
}
