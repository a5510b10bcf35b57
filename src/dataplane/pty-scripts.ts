/**
 * The shell snippets berth runs inside a sandbox for terminals. They need only a POSIX `sh`,
 * `cat`, `kill` and /proc (busybox is enough); `stty` is used when present.
 */

/** The first line a terminal's wrapper prints: `<PTY_PID_MARKER><pid>` (then the command runs). */
export const PTY_PID_MARKER = 'berth-pty-pid:';

/**
 * Runs as `sh -c WRAPPER berth <rows> <cols> [cmd...]` on the new terminal: sets its size before
 * anything draws, reports its own PID (`$$`) on the first line, then `exec`s the command, which
 * keeps that PID. Without a command it becomes a login shell: bash when present, else sh.
 */
export const PTY_WRAPPER = `stty rows "$1" cols "$2" 2>/dev/null; shift 2
printf '${PTY_PID_MARKER}%s\\n' "$$"
if [ $# -gt 0 ]; then exec "$@"; fi
if [ -x /bin/bash ]; then exec /bin/bash -l; fi
exec /bin/sh -l`;

/**
 * `sh -c PTY_SIGNAL berth <pid> <signal> <target>` signals, for `target`:
 * - `process`: the process <pid> itself;
 * - `foreground`: every process of the terminal's foreground process group (what Ctrl-C on a
 *   keyboard reaches: a running `sleep`, or the shell itself when it is idle);
 * - `session`: every process of the session <pid> leads (the shell and all its jobs).
 * Prints how many processes were signalled; exits 44 when <pid> is gone.
 * Fields of /proc/<p>/stat after the command name: state ppid pgrp session tty_nr tpgid.
 */
export const PTY_SIGNAL = `pid=$1; sig=$2; target=$3
s=$(cat "/proc/$pid/stat" 2>/dev/null) || exit 44
s=\${s##*) }; set -- $s
case $target in
  process) kill -s "$sig" "$pid" 2>/dev/null && echo 1 || echo 0; exit 0 ;;
  foreground) field=3; want=$6; [ "$want" -gt 0 ] 2>/dev/null || { kill -s "$sig" "$pid" 2>/dev/null && echo 1 || echo 0; exit 0; } ;;
  *) field=4; want=$pid ;;
esac
n=0
for d in /proc/[0-9]*; do
  s=$(cat "$d/stat" 2>/dev/null) || continue
  s=\${s##*) }; set -- $s
  eval v=\\$$field
  if [ "$v" = "$want" ] && kill -s "$sig" "\${d#/proc/}" 2>/dev/null; then n=$((n+1)); fi
done
echo "$n"`;
