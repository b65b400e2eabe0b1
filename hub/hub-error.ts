/**
 * The hub's domain error: a refusal the user can act on, named by a code of the API's registry
 * (protocol/api-errors.ts). The core throws it without knowing HTTP; hub/http's one error handler
 * answers it with the registry's status and the contract's body `{"error":{"code","message"}}`.
 *
 * How to use it:
 *
 *     throw new HubError('bad_user', `user "${name}" is listed twice`);
 *     throw new HubError('invalid_csv', '3 rows are invalid; nothing was stored', { rows });
 *     throw new HubError('invalid_csv', 'the body is not a CSV file: ...', { status: 400, rows: [] });
 *
 * - The code must be in the registry (a type error otherwise); add a new one there, with its
 *   status and meaning, then run `npm run docs:errors` for docs/API.md.
 * - The status comes from the registry. `extra.status` is only for a code the registry lists
 *   with other statuses (`also`), and only one of those (a type error otherwise).
 * - The message says what went wrong and what to do, in the hub's terms: no CLI command lines
 *   (the CLI adds its own advice by code).
 * - Anything else (a bug, a store failure the caller did not expect) stays a plain Error: the
 *   handler answers it 500 `internal` and logs it.
 */
import type { ApiErrorCode, OtherStatus } from '../protocol/api-errors.ts';

export interface HubErrorExtra<C extends ApiErrorCode = ApiErrorCode> {
  /** one of the code's other statuses in the registry, when this refusal is not its usual one */
  readonly status?: OtherStatus<C>;
  /** an upload's bad rows (`invalid_csv`), answered in the body beside code and message */
  readonly rows?: readonly { readonly line: number; readonly message: string }[];
  /** seconds after which trying again may succeed: answered as `Retry-After` */
  readonly retryAfterS?: number;
}

/**
 * The constructor's arguments: one tuple per code, so `extra.status` is checked against that
 * code's entry; and, for a code known only as a union (`result.code`), one without `status`.
 */
type HubErrorArgs =
  | { [C in ApiErrorCode]: [code: C, message: string, extra?: HubErrorExtra<C>] }[ApiErrorCode]
  | [code: ApiErrorCode, message: string, extra?: Omit<HubErrorExtra, 'status'>];

export class HubError extends Error {
  override readonly name = 'HubError';
  readonly code: ApiErrorCode;
  readonly extra: HubErrorExtra;

  constructor(...[code, message, extra = {}]: HubErrorArgs) {
    super(message);
    this.code = code;
    this.extra = extra;
  }
}
