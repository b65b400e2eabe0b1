/**
 * Reaching the broker: the TCP or TLS socket, and the MQTT 5 CONNECT that opens the session on
 * it (user, password, session expiry, Receive Maximum, Maximum Packet Size).
 */
import { isIP, connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import mqttPacket from 'mqtt-packet';
import type { BrokerAddress } from './broker-address.ts';

export const PROTOCOL = { protocolVersion: 5 } as const;

/** A socket to the broker; it emits 'ready' once it may carry MQTT (after the TLS handshake for mqtts://). */
export function openBrokerSocket(broker: BrokerAddress): Socket {
  const socket = broker.tls
    ? tlsConnect({
        host: broker.host,
        port: broker.port,
        // SNI is for names: a broker given by address is checked against its certificate's IP entries.
        ...(isIP(broker.host) === 0 && { servername: broker.servername }),
        ...(broker.ca && { ca: broker.ca }),
      })
    : tcpConnect({ host: broker.host, port: broker.port });
  socket.setNoDelay(true);
  socket.once(broker.tls ? 'secureConnect' : 'connect', () => socket.emit('ready'));
  return socket;
}

export interface SessionSettings {
  clientId: string;
  cleanStart: boolean;
  keepaliveS: number;
  receiveMaximum: number;
  maximumPacketBytes: number;
}

export function connectPacket(broker: BrokerAddress, s: SessionSettings): Buffer {
  return mqttPacket.generate(
    {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 5,
      clientId: s.clientId,
      clean: s.cleanStart,
      keepalive: s.keepaliveS,
      ...(broker.username !== undefined && { username: broker.username }),
      ...(broker.password !== undefined && { password: Buffer.from(broker.password) }),
      properties: {
        // A persistent session outlives the connection as long as the broker allows (0xFFFFFFFF: never expires).
        sessionExpiryInterval: s.cleanStart ? 0 : 0xffffffff,
        receiveMaximum: s.receiveMaximum,
        maximumPacketSize: s.maximumPacketBytes,
      },
    },
    PROTOCOL,
  );
}
