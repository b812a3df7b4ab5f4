/**
 * The sandbox of the edge's and the hub's systemd units: what `systemd-analyze security` scores
 * (docs/deploy-pi.md, "Hardening"). Both are Node processes that talk over the network and write
 * one state folder; they need no capability, no device, no kernel setting.
 *
 * Left out on purpose, whatever the score says:
 * - MemoryDenyWriteExecute=yes: V8 compiles JavaScript to machine code in memory it writes then
 *   runs (W+X); with it Node dies on its first compiled function.
 * - ProtectKernelTunables=yes at a site with real GPIO: it mounts /sys read-only, and onoff drives
 *   the relays by writing /sys/class/gpio/export and each line's value file, which resolve to
 *   folders under /sys/devices that no ReadWritePaths= line can name in advance.
 * - PrivateUsers=yes at a site with real GPIO: the gpio group that may write those files would be
 *   "nobody" inside the unit's user namespace.
 * PC/SC readers need no device either: the edge talks to pcscd over its socket
 * (/run/pcscd/pcscd.comm), an AF_UNIX connection that PrivateDevices= does not touch.
 */
export interface Sandbox {
  /** Relays on real sysfs GPIO (hardware.gpio: onoff). */
  sysfsGpio: boolean;
  /** Listens on a port below 1024: the one capability it keeps. */
  privilegedPort: boolean;
}

export function hardeningLines(sandbox: Sandbox): string[] {
  const capabilities = sandbox.privilegedPort ? 'CAP_NET_BIND_SERVICE' : '';
  return [
    '# Sandbox: `systemd-analyze security UNIT` scores it (docs/deploy-pi.md, "Hardening").',
    `CapabilityBoundingSet=${capabilities}`,
    `AmbientCapabilities=${capabilities}`,
    'NoNewPrivileges=yes',
    'ProtectSystem=strict',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'PrivateDevices=yes',
    'DevicePolicy=closed',
    // The relays' GPIO files are under /sys: writable at a GPIO site (see above).
    ...(sandbox.sysfsGpio ? [] : ['ProtectKernelTunables=yes', 'PrivateUsers=yes']),
    'ProtectKernelModules=yes',
    'ProtectKernelLogs=yes',
    'ProtectControlGroups=yes',
    'ProtectClock=yes',
    'ProtectHostname=yes',
    'ProtectProc=invisible',
    'ProcSubset=pid',
    'RestrictNamespaces=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'LockPersonality=yes',
    'RemoveIPC=yes',
    'UMask=0077',
    // MQTT, HTTP and pcscd's socket. No AF_NETLINK: glibc's resolver does without it.
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6',
    'SystemCallArchitectures=native',
    'SystemCallFilter=@system-service',
    'SystemCallFilter=~@privileged @resources',
    // A refused call fails with EPERM instead of killing the process: Node tries setrlimit at start.
    'SystemCallErrorNumber=EPERM',
  ];
}
