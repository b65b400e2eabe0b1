/**
 * What went wrong between this hub and the cluster (NATS, a peer hub's bytes). A plain Error
 * with a code, so callers tell "retry later" (the servers are unreachable, a publish timed out)
 * from "never retry" (bytes that are not a bundle).
 */
export type ClusterErrorCode =
  /** NATS could not be reached, or a publish, request or KV call failed or timed out */
  | 'unavailable'
  /** bytes that are not a bundle of this format, or a bundle that contradicts itself */
  | 'bad_bundle'
  /** the stream or a bucket exists with settings this hub cannot use */
  | 'bad_setup';

export class ClusterError extends Error {
  override readonly name = 'ClusterError';
  readonly code: ClusterErrorCode;
  /** whether the same call may succeed later (GroupCommit retries these and pauses ingest) */
  readonly retryable: boolean;

  constructor(code: ClusterErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.retryable = code === 'unavailable';
  }
}
