import { spawn, type ChildProcess } from 'node:child_process';

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the compiled `tessera` CLI to completion (bounded in time). */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 15_000): Promise<Finished> {
  const child = spawnCli(args, env);
  return finished(child, timeoutMs);
}

export function spawnCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): ChildProcess & { output: { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, ['bin/tessera.js', ...args], {
    env: { ...process.env, TESSERA_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (c: Buffer) => (output.stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output.stderr += c.toString()));
  return Object.assign(child, { output });
}

export function finished(
  child: ChildProcess & { output?: { stdout: string; stderr: string } },
  timeoutMs = 15_000,
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const done = (code: number | null, signal: NodeJS.Signals | null) =>
      resolve({ code, signal, stdout: child.output?.stdout ?? '', stderr: child.output?.stderr ?? '' });
    // Already gone (its 'exit' was emitted before anyone listened): waiting for the event would never end.
    if (child.exitCode !== null || child.signalCode !== null) return done(child.exitCode, child.signalCode);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`process did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      done(code, signal);
    });
  });
}

/** Waits until the child's output matches, bounded in time. */
export function waitForOutput(
  child: ChildProcess & { output: { stdout: string; stderr: string } },
  pattern: RegExp,
  timeoutMs = 15_000,
): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const m = (child.output.stdout + child.output.stderr).match(pattern);
      if (m) {
        clearInterval(poll);
        resolve(m);
      } else if (Date.now() - started > timeoutMs || child.exitCode !== null) {
        clearInterval(poll);
        reject(new Error(`no ${pattern} in output:\n${child.output.stdout}\n${child.output.stderr}`));
      }
    }, 25);
  });
}
