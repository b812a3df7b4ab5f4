import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/platform/clock.js';
import { HomeAssistantBridge } from '../../cloud-sync/hub/home-assistant/bridge.js';
import type { HomeAssistantSite } from '../../cloud-sync/hub/home-assistant/discovery.js';
import { silent } from '../support/logger.js';

const site = (id: string, present = 0): HomeAssistantSite => ({
  site: id,
  name: id,
  present,
  capacity: 10,
  online: true,
  activeAlarms: 0,
  doors: [{ door: 'front', open: false, mode: 'locked' }],
});

function bridge(sites: () => HomeAssistantSite[], failPublish = () => false) {
  const clock = new ManualClock(Date.parse('2026-12-01T08:00:00Z'));
  const sent: Array<{ topic: string; payload: string; retain: boolean }> = [];
  const b = new HomeAssistantBridge({
    publish: (topic, payload, o) => {
      if (failPublish()) return Promise.reject(new Error('broker away'));
      sent.push({ topic, payload, retain: o.retain });
      return Promise.resolve();
    },
    sites: () => Promise.resolve(sites()),
    clock,
    log: silent,
    discovery: { topicPrefix: 'tessera/v1', discoveryPrefix: 'homeassistant', version: '1.2.3', commands: false },
    refreshMs: 10_000,
  });
  /** Runs the timers due and lets the look's promises settle. */
  const tick = async (ms = 0) => {
    clock.advance(ms);
    for (let i = 0; i < 20; i++) await Promise.resolve();
  };
  return { b, sent, clock, tick };
}

const topicsOf = (sent: Array<{ topic: string }>) => sent.map((s) => s.topic);

describe('HomeAssistantBridge', () => {
  it('clears, after its first look, the retained configs it found at start for sites it does not know', async () => {
    const { b, sent, tick } = bridge(() => [site('murat')]);
    // Retained on the broker, delivered as the hub subscribes: before its first look.
    b.onMessage('homeassistant/device/tessera/gone/config', Buffer.from('{"dev":{}}'));
    b.onMessage('homeassistant/sensor/tessera/murat_occupancy/config', Buffer.from('{"name":"Occupancy"}'));
    b.onMessage('homeassistant/device/tessera/murat/config', Buffer.from('{"old":true}'));
    expect(sent).toEqual([]);
    b.start();
    await tick();
    expect(sent.filter((s) => s.payload === '').map((s) => s.topic)).toEqual([
      'homeassistant/device/tessera/gone/config',
      'homeassistant/sensor/tessera/murat_occupancy/config',
    ]);
    expect(sent.every((s) => s.retain)).toBe(true);
    expect(topicsOf(sent)).toContain('homeassistant/device/tessera/murat/config');
    expect(topicsOf(sent)).toContain('tessera/v1/home-assistant/murat/state');
    await b.stop();
  });

  it('publishes a config or state only when it changed, everything again when Home Assistant comes online', async () => {
    let present = 0;
    const { b, sent, tick } = bridge(() => [site('murat', present)]);
    b.start();
    await tick();
    expect(topicsOf(sent).sort()).toEqual([
      'homeassistant/device/tessera/murat/config',
      'tessera/v1/home-assistant/murat/state',
    ]);
    sent.length = 0;
    b.changed();
    await tick(1000);
    expect(sent).toEqual([]);
    present = 3;
    b.changed();
    await tick(1000);
    expect(topicsOf(sent)).toEqual(['tessera/v1/home-assistant/murat/state']);
    expect(JSON.parse(sent[0]?.payload ?? '')).toMatchObject({ present: 3, capacity: 10, online: true });
    sent.length = 0;
    b.onMessage('homeassistant/status', Buffer.from('online'));
    await tick(1000);
    expect(topicsOf(sent).sort()).toEqual([
      'homeassistant/device/tessera/murat/config',
      'tessera/v1/home-assistant/murat/state',
    ]);
    await b.stop();
  });

  it('a publication that failed is made again at the next look; stop says offline and looks no more', async () => {
    let away = true;
    const { b, sent, tick, clock } = bridge(
      () => [site('murat')],
      () => away,
    );
    b.start();
    await tick();
    expect(sent).toEqual([]);
    away = false;
    await tick(10_000);
    expect(topicsOf(sent).sort()).toEqual([
      'homeassistant/device/tessera/murat/config',
      'tessera/v1/home-assistant/murat/state',
    ]);
    sent.length = 0;
    b.onConnect();
    await tick();
    expect(sent).toEqual([{ topic: 'tessera/v1/hub/status', payload: 'online', retain: true }]);
    await b.stop();
    expect(sent.at(-1)).toEqual({ topic: 'tessera/v1/hub/status', payload: 'offline', retain: true });
    expect(clock.pendingTimers()).toBe(0);
  });
});
