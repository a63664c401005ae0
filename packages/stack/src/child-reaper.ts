import type { ChildProcess } from 'node:child_process';

/**
 * Keeps track of child processes started by this package so they do not outlive the parent.
 * On 'exit' every tracked child is signalled (synchronously; exit handlers cannot wait).
 * On SIGINT/SIGTERM/SIGHUP the children are signalled only when no other listener is
 * installed for that signal; the signal is then re-raised so the default behaviour (exit)
 * is kept. When the application handles signals itself it is responsible for stopping
 * services, and the 'exit' hook still catches whatever is left.
 */
const tracked = new Map<ChildProcess, NodeJS.Signals>();
const forwardedSignals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let installed = false;

function reapAll(): void {
  for (const [child, signal] of tracked) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    }
  }
  tracked.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return;
  reapAll();
  uninstall();
  process.kill(process.pid, signal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.removeListener('exit', reapAll);
  for (const signal of forwardedSignals) process.removeListener(signal, onSignal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', reapAll);
  for (const signal of forwardedSignals) process.on(signal, onSignal);
}

/** Tracks `child` until it exits; `signal` is what it receives if the parent goes first. */
export function trackChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  tracked.set(child, signal);
  install();
  const forget = (): void => {
    tracked.delete(child);
    if (tracked.size === 0) uninstall();
  };
  child.once('exit', forget);
  child.once('error', () => {
    if (child.pid === undefined) forget();
  });
}
