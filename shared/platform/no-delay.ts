import { Socket } from 'node:net';
import type { MqttClient } from 'mqtt';

/**
 * An MQTT client's connection sends each packet at once (TCP_NODELAY), at each (re)connect:
 * mqtt.js opens a new socket each time. Its packets are small and each is awaited by someone (a
 * door's event, a hub ack, a directory update); with Nagle's algorithm a small write behind one
 * still unacknowledged waits for the peer's delayed ACK, up to 40 ms on Linux. mqtt.js writes a
 * packet in one go, so this costs no extra segments. The embedded broker's sockets send at once
 * too (cloud-sync/broker/embedded.ts). A TLS socket is a TCP socket too; any other stream is left
 * as it is.
 */
export function mqttSendsAtOnce(client: MqttClient): void {
  client.on('connect', () => {
    if (client.stream instanceof Socket) client.stream.setNoDelay(true);
  });
}
