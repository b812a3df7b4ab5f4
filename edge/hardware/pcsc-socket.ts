import { createConnection } from 'node:net';

/** Where pcscd listens on Debian (and where systemd's pcscd.socket puts it). */
export const DEFAULT_PCSCD_SOCKET = '/run/pcscd/pcscd.comm';

const PROBE_TIMEOUT_MS = 2000;

export interface Probe {
  /** Abandons the probe; its callback is not called. */
  cancel(): void;
}

/**
 * Tries one connect to pcscd's Unix socket and hangs up. nfc-pcsc must not be constructed before
 * this succeeds: without pcscd, `new NFC()` spins forever on the JS thread at 100 % CPU.
 */
export function probePcscd(path: string, done: (reachable: boolean, detail: string) => void): Probe {
  let settled = false;
  const socket = createConnection({ path });
  const settle = (reachable: boolean, detail: string) => {
    if (settled) return;
    settled = true;
    socket.destroy();
    done(reachable, detail);
  };
  socket.setTimeout(PROBE_TIMEOUT_MS, () => settle(false, `no answer within ${PROBE_TIMEOUT_MS} ms`));
  socket.once('connect', () => settle(true, 'connected'));
  socket.on('error', (err: NodeJS.ErrnoException) => settle(false, err.code ?? err.message));
  return {
    cancel() {
      settled = true;
      socket.destroy();
    },
  };
}
