import { spawn } from 'node:child_process';

export type Notifier = (state: Record<string, string>) => void;

/**
 * sd_notify through the systemd-notify binary (no native binding needed). The unit
 * sets NotifyAccess=all because the message comes from this child, not the main PID.
 * Without NOTIFY_SOCKET (not under systemd, or Type=simple) it does nothing.
 */
export function systemdNotifier(notifySocket: string | undefined, spawnImpl: typeof spawn = spawn): Notifier {
  if (!notifySocket) return () => undefined;
  return (state) => {
    const args = Object.entries(state).map(([k, v]) => `${k}=${v}`);
    const child = spawnImpl('systemd-notify', args, { stdio: 'ignore', env: { ...process.env, NOTIFY_SOCKET: notifySocket } });
    child.on('error', () => undefined);
  };
}
