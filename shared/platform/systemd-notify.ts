import { execFile } from 'node:child_process';
import type { Logger } from 'pino';

/**
 * Tells systemd how the edge is doing when it runs as a `Type=notify` unit with a watchdog
 * (the unit `tessera config render` writes): READY=1 once the API listens, WATCHDOG=1 at half of
 * WATCHDOG_USEC while the event loop turns, STOPPING=1 when a stop begins.
 *
 * sd_notify is a datagram on the unix socket NOTIFY_SOCKET; node:dgram has only UDP and the npm
 * packages that add unix datagrams are native addons (a compiler on every Pi). The
 * `systemd-notify` binary is on every systemd machine and, since systemd 246, waits until the
 * manager has read the message (sd_notify_barrier), so a child sending for us is not lost; the
 * unit says `NotifyAccess=all` so that a child may. Outside systemd (no NOTIFY_SOCKET) nothing runs.
 */
export interface SystemdNotifier {
  ready(status: string): void;
  stopping(): void;
  /** Ends the watchdog pings. Idempotent. */
  close(): void;
}

export type NotifyRunner = (args: string[], done: (err: Error | null) => void) => void;

const runSystemdNotify: NotifyRunner = (args, done) => {
  execFile('systemd-notify', args, { timeout: 5000 }, (err) => done(err));
};

export function systemdNotifier(opts: {
  env: NodeJS.ProcessEnv;
  log: Logger;
  run?: NotifyRunner;
  pid?: number;
}): SystemdNotifier {
  const { env, log } = opts;
  if (!env.NOTIFY_SOCKET) return { ready: () => undefined, stopping: () => undefined, close: () => undefined };
  const run = opts.run ?? runSystemdNotify;
  let warned = false;
  const send = (...assignments: string[]) =>
    run(assignments, (err) => {
      // One warning: a watchdog that cannot ping will be noticed by systemd itself.
      if (err && !warned) {
        warned = true;
        log.warn({ err: err.message, sent: assignments }, 'systemd-notify failed');
      }
    });
  let watchdog: NodeJS.Timeout | undefined;
  const intervalMs = watchdogIntervalMs(env, opts.pid ?? process.pid);
  return {
    ready(status) {
      send('READY=1', `STATUS=${status}`);
      if (intervalMs === undefined || watchdog) return;
      watchdog = setInterval(() => send('WATCHDOG=1'), intervalMs);
      watchdog.unref();
      log.info({ intervalMs }, 'systemd watchdog: pinging');
    },
    stopping() {
      clearInterval(watchdog);
      send('STOPPING=1');
    },
    close() {
      clearInterval(watchdog);
    },
  };
}

/** Half of WATCHDOG_USEC, if the watchdog is ours (WATCHDOG_PID absent or this process). */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== pid) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}
