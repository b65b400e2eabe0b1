/**
 * Steps shared by the MQTT bridge tests: the bridge's counters from `/metrics`, and waiting until
 * its links have subscribed (a message published before then reaches no session of the hub's).
 */
import { request, waitFor } from '../support/api-client.ts';
import { parseExposition, value, type Exposition } from '../support/prometheus.ts';

export async function scrape(httpPort: number): Promise<Exposition> {
  const res = await request(httpPort, '/metrics');
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status}`);
  return parseExposition(res.text);
}

/** A counter or gauge of the bridge (0 while it has no sample). */
export async function mqttCounter(httpPort: number, name: string, labels: Record<string, string> = {}): Promise<number> {
  return value(await scrape(httpPort), name, labels);
}

/** Resolves once `links` bridge connections (data links and the control link) are subscribed. */
export async function linksUp(httpPort: number, links: number): Promise<void> {
  await waitFor(
    `${links} MQTT links subscribed`,
    async () => (await mqttCounter(httpPort, 'roomwatch_mqtt_links_connected')) === links,
    30_000,
  );
}
