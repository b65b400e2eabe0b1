/**
 * What the broker's refusals mean to the operator, and what to do about them: the reason codes
 * of CONNACK and SUBACK (MQTT 5 §3.2.2.2, §3.9.3) worded for the hub's log.
 */

const CONNACK: ReadonlyMap<number, string> = new Map([
  [0x84, 'the broker does not speak MQTT 5 (Mosquitto 1.6 or later does)'],
  [0x85, 'the broker refuses the client id: set another with --mqtt-client-id'],
  [0x86, 'bad user name or password: check --mqtt-user / --mqtt-password-file or the URL'],
  // Mosquitto 2 answers a wrong password with this one too.
  [
    0x87,
    'not authorized: check the user name and password (--mqtt-user, --mqtt-password-file, or the URL), and that the broker lets this user connect',
  ],
  [0x88, 'the broker is unavailable'],
  [0x89, 'the broker is busy'],
  [0x8a, 'the broker banned this client'],
]);

const SUBACK: ReadonlyMap<number, string> = new Map([
  [0x87, 'not authorized: grant this user read access to it in the broker (docs/INTEGRATIONS.md "Who may publish")'],
  [0x8f, 'the broker finds the filter invalid'],
  [0x9e, 'the broker has no shared subscriptions: use --mqtt-connections 1'],
  [0xa2, 'the broker has no wildcard subscriptions'],
]);

export function connackRefusal(code: number): string {
  return `the broker refused the connection: ${CONNACK.get(code) ?? `reason code 0x${code.toString(16)}`}`;
}

export function subackRefusal(filter: string, code: number): string {
  const why = SUBACK.get(code);
  return `the broker refused the subscription to "${filter}" (reason 0x${code.toString(16)}${why ? `: ${why}` : ''})`;
}
