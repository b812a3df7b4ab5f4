import { dirname } from 'node:path';
import { EXIT } from '../shared/platform/command.js';
import type { SiteConfig } from './schema.js';
import { hardeningLines } from './render-hardening.js';
import { renderAcl, renderPasswordLine } from './render-mosquitto.js';

/**
 * The deployment files of one site (docs/deploy-pi.md), as text: pure functions of the
 * config and of where things go on the Pi, so the same config renders the same files.
 */

/** Where the site is installed on the target machine. */
export interface RenderTarget {
  /** The site config's path on the Pi: the unit runs `tessera edge --config` on it. */
  configPath: string;
  /** The folder holding Tessera's package (bin/tessera.js, dist/, node_modules/). */
  installDir: string;
  /** The system user the edge runs as. */
  user: string;
  /** Absolute path of node on the Pi. */
  nodePath: string;
}

export interface RenderedFile {
  /** Its name in the output folder. */
  name: string;
  /** Where it goes on the target. */
  installPath: string;
  mode: number;
  text: string;
}

/** systemd's watchdog: the edge pings at half of it (shared/platform/systemd-notify.ts). */
export const WATCHDOG_SECONDS = 30;

export function unitName(config: SiteConfig): string {
  return `tessera-edge-${config.site.id}.service`;
}

export function renderUnit(config: SiteConfig, target: RenderTarget): string {
  const { site, hardware } = config;
  const gpio = hardware.gpio === 'onoff';
  return [
    `# ${site.name} (${site.id}): the Tessera edge, rendered by \`tessera config render\` from its config.`,
    '[Unit]',
    `Description=Tessera edge: ${site.name} (${site.id})`,
    `Documentation=file:${target.installDir}/docs/deploy-pi.md`,
    'After=network-online.target time-sync.target',
    'Wants=network-online.target',
    ...(hardware.readers === 'pcsc' ? ['After=pcscd.service', 'Wants=pcscd.service'] : []),
    // A door must come back whatever happened: never stop restarting.
    'StartLimitIntervalSec=0',
    '',
    '[Service]',
    // READY=1 once the API listens and the relays are set; WATCHDOG=1 while the event loop turns.
    'Type=notify',
    // The edge notifies through the systemd-notify binary, a child process of the main one.
    'NotifyAccess=all',
    `ExecStart=${target.nodePath} ${target.installDir}/bin/tessera.js edge --config ${target.configPath}`,
    `EnvironmentFile=-${envPath(config)}`,
    `WorkingDirectory=${target.installDir}`,
    `User=${target.user}`,
    `Group=${target.user}`,
    ...(gpio ? ['SupplementaryGroups=gpio'] : []),
    'Restart=always',
    'RestartSec=2s',
    // An invalid config or a damaged database exits with these codes: restarting would only fail again, every 2 seconds.
    `RestartPreventExitStatus=${EXIT.CONFIG_INVALID} ${EXIT.STORE_CORRUPT}`,
    `WatchdogSec=${WATCHDOG_SECONDS}s`,
    // The edge stops within 5 s (relays safe, outbox flushed); past this systemd kills it.
    'TimeoutStopSec=15s',
    ...hardeningLines({ sysfsGpio: gpio, privilegedPort: config.api.port > 0 && config.api.port < 1024 }),
    storageLine(config.storage.path),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/**
 * The store (SQLite and its WAL) is the only place the edge writes. Under /var/lib systemd makes
 * the folder, owned by the service's user; elsewhere the folder must exist before the start.
 */
function storageLine(storagePath: string): string {
  const dir = dirname(storagePath);
  return dir.startsWith(STATE_ROOT) ? `StateDirectory=${dir.slice(STATE_ROOT.length)}` : `ReadWritePaths=${dir}`;
}

const STATE_ROOT = '/var/lib/';

export function envPath(config: SiteConfig): string {
  return `/etc/tessera/${config.site.id}.env`;
}

export function renderEnvironment(config: SiteConfig): string {
  return [
    `# Environment of ${unitName(config)}; \`systemctl restart ${unitName(config)}\` after a change.`,
    '# Log level: trace, debug, info, warn, error (journalctl -u the unit shows them).',
    'TESSERA_LOG_LEVEL=info',
    "# Hours are decided in the time zone of the config (site.timeZone), whatever the Pi's own.",
    'NODE_ENV=production',
    '',
  ].join('\n');
}

/** The kernel's NFC stack claims ACR122U-class readers (PN533 chip) before pcscd can open them. */
export function renderModprobeBlacklist(): string {
  return [
    '# ACR122U-class readers (NXP PN533): keep the kernel NFC drivers off them so pcscd can use them.',
    '# Takes effect after a reboot, or now with: sudo modprobe -r pn533_usb pn533 nfc',
    'blacklist pn533_usb',
    'blacklist pn533',
    'blacklist nfc',
    '',
  ].join('\n');
}

/** Every file of the site; the broker ones only for a site with a `broker` block. */
export function renderSiteFiles(config: SiteConfig, target: RenderTarget, salt?: Buffer): RenderedFile[] {
  const id = config.site.id;
  const files: RenderedFile[] = [
    {
      name: unitName(config),
      installPath: `/etc/systemd/system/${unitName(config)}`,
      mode: 0o644,
      text: renderUnit(config, target),
    },
    { name: `${id}.env`, installPath: envPath(config), mode: 0o644, text: renderEnvironment(config) },
    {
      name: 'tessera-nfc-blacklist.conf',
      installPath: '/etc/modprobe.d/tessera-nfc-blacklist.conf',
      mode: 0o644,
      text: renderModprobeBlacklist(),
    },
  ];
  if (config.broker !== undefined) {
    // The hash is a secret's derivative: readable by the broker only (mosquitto's group).
    files.push({
      name: `${id}.mosquitto-passwd`,
      installPath: "append to the broker's password_file",
      mode: 0o600,
      text: renderPasswordLine(config, salt),
    });
    files.push({
      name: `${id}.mosquitto-acl`,
      installPath: "append to the broker's acl_file",
      mode: 0o644,
      text: renderAcl(config),
    });
  }
  return files;
}
