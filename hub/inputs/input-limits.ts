/**
 * What one HTTP write (InfluxDB line protocol, Prometheus remote write) may make the hub spend:
 * the defaults, in one place (docs/API.md "Limits of writes").
 */
export const INPUT_LIMITS = {
  /** the largest body, compressed and once decompressed: InfluxDB's own limit is 25 MB; agents send well under 1 MB */
  maxWriteBytes: 10 * 1024 * 1024,
  /** writes handled at once: each holds its body and readings until they are committed */
  maxConcurrentWrites: 16,
  /** seconds a refused write is told to wait (503 with Retry-After) */
  retryAfterS: 2,
} as const;
