import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it, vi } from 'vitest';
import type { z } from 'zod';
import { ManualClock } from '../../shared/platform/clock.js';
import type { NewEvent } from '../../shared/protocol/events.js';
import { localDay, type Closure, type WeeklyWindow } from '../../shared/protocol/schedule.js';
import { DoorConfig } from '../../firmware-config/schema.js';
import { SimGpio } from '../../edge/hardware/sim-gpio.js';
import { DoorController } from '../../edge/doors/door-controller.js';
import type { FreeAccessRule } from '../../edge/doors/door-options.js';
import { isFreeAccessAt } from '../../edge/doors/free-access.js';
import { doorOptions } from '../../edge/site/options.js';

const PARIS = 'Europe/Paris';
const STAFFED: WeeklyWindow[] = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:30', to: '18:30' }];
const RELAY = 17;
const CONTACT = 22;
const EXIT = 23;
const DEBOUNCE = 30;
/** Monday 2 March 2026, 10:00 in Paris (UTC+1). */
const MONDAY_10H = '2026-03-02T10:00:00+01:00';

interface Setup {
  door?: Partial<z.input<typeof DoorConfig>>;
  start?: string;
  closures?: Closure[];
  emit?: (e: NewEvent) => void;
}

function doorUnderTest(setup: Setup = {}) {
  const clock = new ManualClock(setup.start ?? MONDAY_10H);
  const gpio = new SimGpio(clock);
  const events: NewEvent[] = [];
  // Through the config schema, for its defaults, then as the site maps it.
  const door = doorOptions(
    DoorConfig.parse({
      id: 'front',
      relay: { line: RELAY },
      pulseMs: 3000,
      contact: { line: CONTACT, debounceMs: DEBOUNCE },
      exitButton: { line: EXIT, debounceMs: 0 },
      heldOpenSeconds: 30,
      ...setup.door,
    }),
  );
  const emit = setup.emit ?? ((e: NewEvent) => void events.push(e));
  const controller = new DoorController({
    door,
    gpio,
    clock,
    timeZone: PARIS,
    hours: STAFFED,
    closures: setup.closures ?? [],
    emit,
  });
  /** Moves the contact and lets the debounce run out. */
  const contact = (open: boolean) => {
    gpio.setInput(CONTACT, open);
    clock.advance(DEBOUNCE);
  };
  const types = () => events.map((e) => e.type);
  return { clock, gpio, events, controller, contact, types };
}

describe('door relay', () => {
  it('keeps a fail-secure relay inactive at start and energises it for exactly pulseMs', () => {
    const { clock, gpio, controller } = doorUnderTest();
    controller.start();
    expect(gpio.isActive(RELAY)).toBe(false);
    const t = clock.now();
    controller.unlock('granted');
    expect(controller.state().mode).toBe('unlocked');
    clock.advance(2999);
    expect(gpio.isActive(RELAY)).toBe(true);
    clock.advance(1);
    expect(gpio.isActive(RELAY)).toBe(false);
    expect(gpio.history(RELAY)).toEqual([
      { at: t, active: false },
      { at: t, active: true },
      { at: t + 3000, active: false },
    ]);
    expect(controller.state().mode).toBe('locked');
  });

  it('extends a pulse when unlocked again during it', () => {
    const { clock, gpio, controller } = doorUnderTest();
    controller.start();
    const t = clock.now();
    controller.unlock('granted');
    clock.advance(2000);
    controller.unlock('granted');
    clock.advance(2999);
    expect(gpio.isActive(RELAY)).toBe(true);
    clock.advance(1);
    expect(gpio.history(RELAY).slice(1)).toEqual([
      { at: t, active: true },
      { at: t + 5000, active: false },
    ]);
  });

  it('holds a fail-safe (maglock) relay energised while locked and releases it to unlock', () => {
    const { clock, gpio, controller } = doorUnderTest({
      door: { failMode: 'fail-safe', relay: { line: RELAY, activeLow: true } },
    });
    controller.start();
    expect(gpio.isActive(RELAY)).toBe(true);
    expect(gpio.raw(RELAY)).toBe(false);
    expect(controller.state().mode).toBe('locked');
    controller.unlock('granted');
    expect(gpio.isActive(RELAY)).toBe(false);
    expect(controller.state().mode).toBe('unlocked');
    clock.advance(3000);
    expect(gpio.isActive(RELAY)).toBe(true);
    controller.stop();
    expect(gpio.isActive(RELAY)).toBe(false);
    expect(gpio.raw(RELAY)).toBe(true);
  });

  it('stops idempotently: relay inactive, no timer left, unlock ignored', () => {
    const { clock, gpio, controller, contact } = doorUnderTest({ door: { freeAccess: 'staffed' } });
    controller.start();
    controller.unlock('granted');
    contact(true);
    expect(clock.pendingTimers()).toBeGreaterThan(0);
    controller.stop();
    controller.stop();
    expect(gpio.isActive(RELAY)).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
    controller.unlock('granted');
    expect(gpio.isActive(RELAY)).toBe(false);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('keeps working when recording an event fails', () => {
    const emit = vi.fn(() => {
      throw new Error('disk full');
    });
    const { gpio, controller } = doorUnderTest({ emit });
    controller.start();
    gpio.press(EXIT, true);
    expect(emit).toHaveBeenCalled();
    expect(gpio.isActive(RELAY)).toBe(true);
  });
});

describe('door contact alarms', () => {
  it('raises door.forced once when the door opens while locked, then door.secured on closing', () => {
    const { clock, controller, contact, events } = doorUnderTest();
    controller.start();
    contact(true);
    clock.advance(120_000);
    expect(events).toEqual([{ type: 'door.forced', data: { door: 'front' } }]);
    expect(controller.state()).toMatchObject({ contact: 'open', alarm: 'forced' });
    contact(false);
    expect(events.at(-1)).toEqual({ type: 'door.secured', data: { door: 'front', after: 'forced' } });
    expect(controller.state()).toMatchObject({ contact: 'closed', alarm: null });
  });

  it('does not call an opening during the pulse forced, nor one heard within the debounce after it', () => {
    const { clock, gpio, controller, contact, types } = doorUnderTest();
    controller.start();
    controller.unlock('granted');
    contact(true);
    contact(false);
    controller.unlock('granted');
    clock.advance(3000 - 10);
    gpio.setInput(CONTACT, true);
    clock.advance(DEBOUNCE);
    expect(types()).toEqual([]);
  });

  it('raises door.held after heldOpenSeconds of an authorised opening, and door.secured on closing', () => {
    const { clock, controller, contact, events, types } = doorUnderTest();
    controller.start();
    controller.unlock('granted');
    contact(true);
    clock.advance(30_000 - DEBOUNCE - 1);
    expect(types()).toEqual([]);
    clock.advance(1);
    expect(events).toEqual([{ type: 'door.held', data: { door: 'front', seconds: 30 } }]);
    expect(controller.state().alarm).toBe('held');
    contact(false);
    expect(events.at(-1)).toEqual({ type: 'door.secured', data: { door: 'front', after: 'held' } });
  });

  it('cancels the held-open timer when the door closes in time', () => {
    const { clock, controller, contact, types } = doorUnderTest();
    controller.start();
    controller.unlock('granted');
    contact(true);
    clock.advance(10_000);
    contact(false);
    clock.advance(60_000);
    expect(types()).toEqual([]);
  });

  it('treats a door already open at start as held open, not forced', () => {
    const { clock, gpio, controller, types } = doorUnderTest();
    gpio.setRaw(CONTACT, true);
    controller.start();
    expect(controller.state().contact).toBe('open');
    clock.advance(30_000);
    expect(types()).toEqual(['door.held']);
  });

  it('reports the contact as unknown and raises no alarm without a contact', () => {
    const { clock, controller, types } = doorUnderTest({ door: { contact: undefined } });
    controller.start();
    clock.advance(3_600_000);
    expect(controller.state()).toMatchObject({ contact: 'unknown', alarm: null });
    expect(types()).toEqual([]);
  });
});

describe('exit button', () => {
  it('records the request, pulses the door, tells the listeners, and the opening is not forced', () => {
    const { clock, gpio, controller, contact, events } = doorUnderTest();
    controller.start();
    const heard: unknown[] = [];
    controller.onExitRequest(() => {
      throw new Error('listener bug');
    });
    const off = controller.onExitRequest((r) => heard.push(r));
    const at = clock.now();
    gpio.press(EXIT, true);
    gpio.press(EXIT, false);
    expect(events).toEqual([{ type: 'door.exit_requested', data: { door: 'front' } }]);
    expect(gpio.isActive(RELAY)).toBe(true);
    expect(heard).toEqual([{ door: 'front', at }]);
    contact(true);
    contact(false);
    expect(events).toHaveLength(1);
    off();
    gpio.press(EXIT, true);
    expect(heard).toHaveLength(1);
  });
});

describe('free access during staffed hours (Europe/Paris)', () => {
  const at = (iso: string) => DateTime.fromISO(iso, { zone: PARIS }).toMillis();

  it('holds the door unlocked from 08:30 to 18:30 on a weekday, with no alarm meanwhile', () => {
    // Started off the half-minute on purpose: the change must still land on 08:30:00 sharp.
    const start = '2026-03-02T08:00:07.250+01:00';
    const { clock, gpio, controller, contact, events, types } = doorUnderTest({
      door: { freeAccess: 'staffed' },
      start,
    });
    controller.start();
    clock.advanceTo(at('2026-03-02T08:29:59.999'));
    expect(controller.state().mode).toBe('locked');
    clock.advanceTo(at('2026-03-02T08:30:00'));
    expect(controller.state()).toMatchObject({ mode: 'free_access', freeAccess: true });
    expect(gpio.isActive(RELAY)).toBe(true);
    expect(events).toEqual([{ type: 'door.mode', data: { door: 'front', mode: 'free_access' } }]);
    contact(true);
    clock.advanceTo(at('2026-03-02T12:00:00'));
    contact(false);
    expect(types()).toEqual(['door.mode']);
    clock.advanceTo(at('2026-03-02T18:29:59.999'));
    expect(gpio.isActive(RELAY)).toBe(true);
    clock.advanceTo(at('2026-03-02T18:30:00'));
    expect(controller.state().mode).toBe('locked');
    expect(gpio.isActive(RELAY)).toBe(false);
    expect(events.at(-1)).toEqual({ type: 'door.mode', data: { door: 'front', mode: 'locked' } });
  });

  it('stays locked on a closure day and at the weekend', () => {
    const closures: Closure[] = [{ from: '2026-03-03', reason: 'works' }];
    const { clock, controller, types } = doorUnderTest({
      door: { freeAccess: 'staffed' },
      start: '2026-03-02T19:00:00+01:00',
      closures,
    });
    controller.start();
    clock.advanceTo(at('2026-03-03T12:00:00'));
    expect(controller.state().mode).toBe('locked');
    clock.advanceTo(at('2026-03-07T12:00:00'));
    expect(controller.state().mode).toBe('locked');
    expect(types()).toEqual(['door.mode', 'door.mode', 'door.mode', 'door.mode', 'door.mode', 'door.mode']);
    clock.advanceTo(at('2026-03-08T23:00:00'));
    expect(types()).toHaveLength(6);
  });

  it('follows local time across the spring DST change', () => {
    const { clock, controller } = doorUnderTest({
      door: { freeAccess: 'staffed' },
      start: '2026-03-29T12:00:00+02:00',
    });
    controller.start();
    clock.advanceTo('2026-03-30T08:29:59+02:00');
    expect(controller.state().mode).toBe('locked');
    clock.advanceTo('2026-03-30T08:30:00+02:00');
    expect(controller.state().mode).toBe('free_access');
  });

  it('raises no held-open alarm when free access begins while an authorised opening is timed', () => {
    const { clock, controller, contact, types } = doorUnderTest({
      door: { freeAccess: 'staffed' },
      start: '2026-03-02T08:29:50+01:00',
    });
    controller.start();
    controller.unlock('granted');
    contact(true);
    clock.advanceTo(at('2026-03-02T08:35:00'));
    expect(types()).toEqual(['door.mode']);
  });

  it('starts counting held-open time when free access ends with the door open', () => {
    const { clock, controller, contact, types } = doorUnderTest({
      door: { freeAccess: 'staffed' },
      start: '2026-03-02T18:00:00+01:00',
    });
    controller.start();
    contact(true);
    clock.advanceTo(at('2026-03-02T18:30:29'));
    expect(types()).toEqual(['door.mode', 'door.mode']);
    clock.advanceTo(at('2026-03-02T18:30:30'));
    expect(types()).toEqual(['door.mode', 'door.mode', 'door.held']);
  });

  it('is never on for a closure day, whatever the rule (property)', () => {
    const instant = fc.integer({ min: at('2026-01-01T00:00:00'), max: at('2027-01-01T00:00:00') });
    const rule = fc.constantFrom<FreeAccessRule>(
      'staffed',
      [{ days: ['sun', 'sat'], from: '00:00', to: '24:00' }],
      STAFFED,
    );
    fc.assert(
      fc.property(instant, rule, (t, freeAccess) => {
        const closures = [{ from: localDay(t, PARIS) }];
        expect(isFreeAccessAt(freeAccess, { timeZone: PARIS, hours: STAFFED, closures }, t)).toBe(false);
      }),
    );
  });
});
