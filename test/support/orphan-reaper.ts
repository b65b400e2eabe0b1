/**
 * The peers the harnesses start (nats-servers, PostgreSQL) run in process groups of their own,
 * so they outlive a test process that is killed (the runner's SIGKILL at a file's timeout, a
 * Ctrl-C on `timeout ... npm test`), and its teardown never runs. A small shell watchdog per
 * temp folder ends them then: once the owning process is gone, it kills -9 the process ids
 * listed in the folder's `.pids` and the postmaster named in `data/postmaster.pid`, and removes
 * the folder. A normal teardown removes the folder first, and the watchdog then finds nothing.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const WATCHDOG = `
while kill -0 "$1" 2>/dev/null; do sleep 2; done
[ -d "$2" ] || exit 0
[ -f "$2/.pids" ] && kill -9 $(cat "$2/.pids") 2>/dev/null
[ -f "$2/data/postmaster.pid" ] && kill -9 "$(head -n 1 "$2/data/postmaster.pid")" 2>/dev/null
sleep 1
rm -rf "$2"
`;

/** Starts the watchdog of `dir` for this process. */
export function reapWhenOrphaned(dir: string): void {
  const child = spawn('sh', ['-c', WATCHDOG, 'roomwatch-reaper', String(process.pid), dir], { detached: true, stdio: 'ignore' });
  child.unref();
}

/** Records the process ids the watchdog of `dir` kills if this process dies first. */
export function recordPids(dir: string, pids: readonly number[]): void {
  writeFileSync(join(dir, '.pids'), pids.join(' ') + '\n');
}
