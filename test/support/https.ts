/**
 * JSON over HTTPS for the TLS tests: `GET` a path of the user API (PROTOCOL.md §2) on 127.0.0.1,
 * verifying the hub against the given CA. No keep-alive, so no pooled socket outlives a hub.
 */
import https from 'node:https';

export function getJsonTls<T = unknown>(port: number, path: string, ca: Buffer, timeoutMs = 10_000): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path, ca, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as T });
        } catch {
          reject(new Error(`GET ${path}: ${res.statusCode} with a body that is not JSON: ${text.slice(0, 300)}`));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}
