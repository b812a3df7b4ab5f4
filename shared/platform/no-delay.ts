import { Socket } from 'node:net';
import type { MqttClient } from 'mqtt';

/**
 * MQTT packets are small and each is awaited by someone (a door, a hub ack, a directory
 * update). With Nagle's algorithm on, a small write that follows another still unacknowledged
 * waits for the peer's delayed ACK: up to 40 ms on Linux. Brokers and clients that care about
 * latency turn it off (TCP_NODELAY). A TLS socket is a TCP socket too; any other stream (a
 * test's) is left as it is.
 */
export function sendAtOnce(stream: unknown): void {
  if (stream instanceof Socket) stream.setNoDelay(true);
}

/** The same for an MQTT client's connection, at each (re)connect: mqtt.js opens a new socket each time. */
export function mqttSendsAtOnce(client: MqttClient): void {
  client.on('connect', () => sendAtOnce(client.stream));
}
