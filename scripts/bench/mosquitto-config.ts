/**
 * The Mosquitto 2 configuration the MQTT tests and benchmarks run with (/work/shared/PEERS.md):
 * one loopback listener, persistence in the run's temp folder, a deep per-client queue (the
 * default 1,000 drops what a stopped subscriber's persistent session would get beyond it).
 */
export function mosquittoConfig(port: number, dir: string, extra: readonly string[] = [], maxQueuedMessages = 100_000): string {
  return [
    'per_listener_settings false',
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence true',
    `persistence_location ${dir}/`,
    `max_queued_messages ${maxQueuedMessages}`,
    // as root it would switch to the mosquitto user, who cannot write the temp folder
    'user root',
    ...extra,
    '',
  ].join('\n');
}
