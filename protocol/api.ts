/**
 * The JSON shapes of the user API (PROTOCOL.md §2), shared by the hub that writes them and
 * the CLI that reads them.
 */

/** A reading as the API shows it: `latest`, report-now answers and stream messages. */
export interface Reading {
  sensor: string;
  room: string;
  metric: string;
  value: number;
  unit: string;
  /** ms since the Unix epoch */
  ts: number;
}

export interface LatestBody {
  readings: Reading[];
}

/** One entry of `GET /api/v1/sensors`. */
export interface SensorInfo {
  sensor: string;
  room: string;
  connected: boolean;
  /** ms since the Unix epoch; null for a sensor known only by name */
  last_seen: number | null;
  metrics: string[];
}

export interface SensorsBody {
  sensors: SensorInfo[];
}

/** One bad row of a refused upload; line 1 is the header. */
export interface BadRow {
  line: number;
  message: string;
}

/** Every error answer: `{"error":{"code","message"}}`; an upload refusal adds `rows`. */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    rows?: BadRow[];
  };
}

/** `POST /api/v1/readings` on success. */
export interface UploadBody {
  accepted: number;
  duplicates: number;
}

/** `POST /api/v1/report-now`. */
export interface ReportNowBody {
  id: string;
  requested: number;
  responded: number;
  /** sensors that did not report in time, or answered with an error */
  missing: string[];
  readings: Reading[];
  /** sensors that answered the command with an `error` (e.g. 501); also in `missing` */
  errors?: { sensor: string; code: number; message: string }[];
}

/** `GET /api/v1/activity`: the kinds of event the hub records (docs/ADMIN.md "Activity log"). */
export const ACTIVITY_ACTIONS = [
  'sensor.connect',
  'login',
  'logout',
  'report-now',
  'upload',
  'export',
  'user.put',
  'user.delete',
  'token.create',
  'token.revoke',
] as const;
export type ActivityAction = (typeof ACTIVITY_ACTIONS)[number];
