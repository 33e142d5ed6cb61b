/**
 * Whether a process of this machine still exists, by its PID (signal 0 checks without sending
 * anything; EPERM means it exists under another user). Used to tell a run lock, a running run or
 * a scheduler's heartbeat left by a process that is gone.
 */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
