/**
 * The names every cluster process agrees on (hubs, writers, tests, the demo): the JetStream
 * stream and its subjects, the partitioning of sensors, the writers' consumer, the KV buckets
 * and the core NATS subjects. Change one here and every process changes with it; the stored
 * stream and buckets keep the old ones, so a rename needs a migration.
 */
import { randomBytes } from 'node:crypto';

export const STREAM_NAME = 'ROOMWATCH_READINGS';
export const SUBJECT_PREFIX = 'roomwatch.readings';
/** the stream's subject filter: every partition */
export const STREAM_SUBJECTS = `${SUBJECT_PREFIX}.*`;
/** a sensor's readings always go to one partition, so one writer batch holds a sensor's rows in order */
export const PARTITIONS = 16;
/** JetStream drops a message whose Nats-Msg-Id it saw this recently: a retried commit's repeat */
export const DUPLICATE_WINDOW_MS = 120_000;
/** at most this many replicas, and never more than the servers given */
export const MAX_REPLICAS = 3;

/** the durable pull consumer every writer process shares */
export const WRITERS_CONSUMER = 'roomwatch-writers';
export const WRITERS_ACK_WAIT_MS = 30_000;
/** bundles handed out to writers and not yet acked: bounds a writer's memory and a crash's redelivery */
export const WRITERS_MAX_ACK_PENDING = 1_024;

/** sensor id (encoded: ownerKey) -> hubId of the hub that holds its connection */
export const OWNERS_BUCKET = 'roomwatch_owners';
/** hubId -> JSON HubAnnouncement; a key that expired is a dead hub */
export const HUBS_BUCKET = 'roomwatch_hubs';
export const HUB_TTL_MS = 10_000;
export const HUB_REFRESH_MS = 3_000;

/** request-many: each hub answers with the report-now outcome of its own sensors */
export const REPORT_NOW_SUBJECT = 'roomwatch.report-now';

/**
 * core NATS, not the stream (writers must not see it): an upload's newest reading per series,
 * as a bundle, so the other hubs' latest moves as the uploading hub's does. At most once: a hub
 * that misses one has it at its next start, from PostgreSQL.
 */
export const UPLOADED_SUBJECT = 'roomwatch.uploaded';
/** core NATS: an upload's newly stored rows, for the other hubs' live subscribers (at most once) */
export const UPLOADED_ROWS_SUBJECT = 'roomwatch.uploaded-rows';
/**
 * core NATS: late readings (not newer than their channel's newest when committed) that a writer
 * found new in PostgreSQL, published after its commit, for every hub's live subscribers. No hub
 * streams a late reading from the stream itself: only the writer knows whether it is a repeat.
 * At most once (a writer killed between its commit and this publish: stored, not streamed).
 */
export const LATE_ROWS_SUBJECT = 'roomwatch.late-rows';

/** JetStream's de-duplication header */
export const HEADER_MSG_ID = 'Nats-Msg-Id';
/** the hub that published a bundle: its own follower skips it */
export const HEADER_HUB = 'Roomwatch-Hub';

/** What a hub says about itself in HUBS_BUCKET. */
export interface HubAnnouncement {
  /** the HTTP API's port (or URL), for people and tests */
  http: string;
  /** the sensors' TCP port */
  tcp: string;
  /** ms since the epoch */
  started: number;
}

export function subjectOf(partition: number): string {
  return `${SUBJECT_PREFIX}.${partition}`;
}

/** The partition of a subject `roomwatch.readings.<p>`, or -1 for any other subject. */
export function partitionOfSubject(subject: string): number {
  if (!subject.startsWith(`${SUBJECT_PREFIX}.`)) return -1;
  const tail = subject.slice(SUBJECT_PREFIX.length + 1);
  const p = /^(0|[1-9]\d?)$/.test(tail) ? Number(tail) : -1;
  return p < PARTITIONS ? p : -1;
}

const utf8 = new TextEncoder();

/** FNV-1a 32 over the id's UTF-8 bytes. */
export function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return fnv1a32Bytes(utf8.encode(text)); // rare: hash the real bytes
    h = Math.imul(h ^ c, 0x01000193);
  }
  return h >>> 0;
}

function fnv1a32Bytes(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

/** The partition of a sensor: FNV-1a 32 of its id mod PARTITIONS. */
export function partitionOf(sensor: string): number {
  return fnv1a32(sensor) % PARTITIONS;
}

/** JetStream's message id of one partition's bundle of one commit: a retried gen repeats it. */
export function msgIdOf(hubId: string, gen: number, partition: number, chunk = 0): string {
  // A commit too large for one message is cut into chunks; the first keeps the contract's id.
  return chunk === 0 ? `${hubId}.${gen}.${partition}` : `${hubId}.${gen}.${partition}.${chunk}`;
}

/** A sensor id as a KV key: base64url, since ids may hold characters KV keys cannot. */
export function ownerKey(sensor: string): string {
  return Buffer.from(sensor, 'utf8').toString('base64url');
}

export function sensorOfOwnerKey(key: string): string {
  return Buffer.from(key, 'base64url').toString('utf8');
}

/** A hub id fits a KV key, a header and a message id: letters, digits, '-' and '_'. */
export const HUB_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** The default hub id: `<hostname>-<tcpPort>-<4 hex>`, fixed at start (the hostname made key-safe). */
export function defaultHubId(hostname: string, tcpPort: number, random = randomBytes(2).toString('hex')): string {
  const host = hostname.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40) || 'hub';
  return `${host}-${tcpPort}-${random}`;
}
