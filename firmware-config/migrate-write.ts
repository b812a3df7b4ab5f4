import {
  chmodSync,
  closeSync,
  constants,
  copyFileSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  fsyncSync,
  openSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Past this many backups of one version beside a file, something is looping: stop. */
const MAX_BACKUPS = 1000;

/**
 * A copy of the file as it was, beside it, named by the version it holds: `FILE.v1.bak`, then
 * `FILE.v1.2.bak`, ... An existing backup is never overwritten: it may be the only copy of a
 * file an earlier migration replaced. Same permissions as the file (it holds the broker password).
 */
function keepBackup(real: string, version: number, mode: number): string {
  for (let n = 1; n <= MAX_BACKUPS; n++) {
    const name = `${real}.v${version}${n === 1 ? '' : `.${n}`}.bak`;
    try {
      copyFileSync(real, name, constants.COPYFILE_EXCL);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    chmodSync(name, mode);
    return name;
  }
  throw new Error(`${MAX_BACKUPS} backups of version ${version} already beside ${real}: clear some first`);
}

/**
 * Replaces the file with `text` so that a reader sees the old file or the new one, never a part:
 * a temporary file beside it with the same mode and owner, flushed to disk, renamed over it. The
 * owner matters: migrated by root, a file only the service user may read must stay the service
 * user's, or the site would not start. A symlink is followed: the file it names is replaced.
 */
function replaceFile(real: string, text: string, stat: { mode: number; uid: number; gid: number }): void {
  const temp = join(dirname(real), `.${basename(real)}.${process.pid}.migrate.tmp`);
  const fd = openSync(temp, 'wx', stat.mode);
  try {
    try {
      writeSync(fd, text);
      fchmodSync(fd, stat.mode);
      const made = fstatSync(fd);
      if (made.uid !== stat.uid || made.gid !== stat.gid) fchownSync(fd, stat.uid, stat.gid);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, real);
  } catch (error) {
    removeQuietly(temp);
    if ((error as NodeJS.ErrnoException).code === 'EPERM')
      throw new Error(
        `cannot give the new file the owner of the old one (uid ${stat.uid}, gid ${stat.gid}): run as root or as that user`,
      );
    throw error;
  }
  syncFolder(dirname(real));
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing is left behind.
  }
}

/** The rename itself reaches the disk (a Pi loses power without warning). */
function syncFolder(folder: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(folder, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a folder; the rename is done either way.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Keeps a backup of `file` (of format `version`) and puts `text` in its place; returns the backup's path. */
export function writeMigrated(file: string, text: string, version: number): string {
  const real = realpathSync(file);
  const stat = statSync(real);
  const mode = stat.mode & 0o7777;
  const backup = keepBackup(real, version, mode);
  replaceFile(real, text, { mode, uid: stat.uid, gid: stat.gid });
  return backup;
}
