import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { finished, spawnCli, waitForOutput } from '../harness/process.js';
import { cleanupsAfterEach } from '../support/cleanups.js';

/**
 * The other end of sd_notify, as systemd is for the rendered unit: a unix datagram socket that
 * prints each message on a line and closes the file descriptors a barrier passes (systemd-notify
 * waits for that). Node has no unix datagram sockets; Python does.
 */
const SINK = `
import array, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
while True:
    msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(64))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(data[: len(data) - len(data) % fds.itemsize])
            for fd in fds:
                os.close(fd)
    print(msg.decode().replace("\\n", "|"), flush=True)
`;

const cleanups = cleanupsAfterEach();

/** The sink on `socketPath`, its output kept as spawnCli keeps a command's. */
function startSink(socketPath: string) {
  const sink = spawn('python3', ['-c', SINK, socketPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => sink.kill('SIGKILL'));
  const output = { stdout: '', stderr: '' };
  sink.stdout.on('data', (c: Buffer) => (output.stdout += c.toString()));
  sink.stderr.on('data', (c: Buffer) => (output.stderr += c.toString()));
  return Object.assign(sink, { output });
}

// Under CI (.ci/run installs them) a missing tool fails the test instead of skipping it.
const has = (name: string) => process.env.CI === 'true' || spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
const withTools = has('systemd-notify') && has('python3') ? it : it.skip;

describe('the edge under systemd (Type=notify, WatchdogSec)', () => {
  withTools(
    'says READY once its API listens, pings the watchdog at half its period, and says STOPPING on SIGTERM',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-notify-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      chmodSync(dir, 0o755);
      writeFileSync(
        join(dir, 'site.yaml'),
        'version: 2\nsite: { id: notified, name: N, timeZone: Europe/Paris, capacity: 2 }\ndirectory: { source: file, path: d.yaml }\nstorage: { path: edge.db }\napi: { port: 0 }\n',
      );
      writeFileSync(join(dir, 'd.yaml'), 'revision: 1\nplans: []\nmembers: []\nbadges: []\n');
      const socketPath = join(dir, 'notify.sock');
      const sinkProc = startSink(socketPath);
      const sinkOut = sinkProc.output;
      await waitForOutput(sinkProc, /bound/);

      // 400 ms watchdog: pings every 200 ms.
      const edge = spawnCli(['edge', '--config', join(dir, 'site.yaml'), '--simulate'], {
        NOTIFY_SOCKET: socketPath,
        WATCHDOG_USEC: '400000',
      });
      cleanups.push(() => edge.kill('SIGKILL'));
      await waitForOutput(sinkProc, /READY=1\|STATUS=notified: local API on http:\/\/127\.0\.0\.1:\d+/);
      await waitForOutput(sinkProc, /WATCHDOG=1[\s\S]*WATCHDOG=1/);
      edge.kill('SIGTERM');
      expect((await finished(edge)).code).toBe(0);
      await waitForOutput(sinkProc, /STOPPING=1/);
      const lines = sinkOut.stdout.split('\n').filter((l) => l !== '' && l !== 'bound' && l !== 'BARRIER=1');
      expect(lines[0]).toMatch(/^READY=1/);
      expect(lines.at(-1)).toBe('STOPPING=1');
    },
  );

  withTools('the hub says READY once its broker and API listen, pings the watchdog, and says STOPPING', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-notify-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const sink = startSink(join(dir, 'notify.sock'));
    await waitForOutput(sink, /bound/);
    const args = ['hub', '--db', join(dir, 'hub.db'), '--broker-port', '0', '--api-port', '0'];
    const hub = spawnCli(args, { NOTIFY_SOCKET: join(dir, 'notify.sock'), WATCHDOG_USEC: '400000' });
    cleanups.push(() => hub.kill('SIGKILL'));
    await waitForOutput(sink, /READY=1\|STATUS=API on http:\/\/127\.0\.0\.1:\d+, MQTT on mqtt:\/\/127\.0\.0\.1:\d+/);
    await waitForOutput(sink, /WATCHDOG=1[\s\S]*WATCHDOG=1/);
    hub.kill('SIGTERM');
    expect((await finished(hub)).code).toBe(0);
    await waitForOutput(sink, /STOPPING=1/);
  });

  it('sends nothing and runs as before without NOTIFY_SOCKET', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-notify-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(
      join(dir, 'site.yaml'),
      'version: 2\nsite: { id: plain, name: P, timeZone: Europe/Paris, capacity: 2 }\ndirectory: { source: file, path: d.yaml }\nstorage: { path: edge.db }\napi: { port: 0 }\n',
    );
    writeFileSync(join(dir, 'd.yaml'), 'revision: 1\nplans: []\nmembers: []\nbadges: []\n');
    const env = { NOTIFY_SOCKET: '', WATCHDOG_USEC: '400000' };
    const edge = spawnCli(['edge', '--config', join(dir, 'site.yaml'), '--simulate'], env);
    await waitForOutput(edge, /local API listening/);
    edge.kill('SIGTERM');
    const end = await finished(edge);
    expect(end.code).toBe(0);
    expect(end.stdout + end.stderr).not.toContain('systemd');
  });
});
