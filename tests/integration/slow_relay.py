#!/usr/bin/env python3
"""Run a program on a pseudo-terminal behind a throttled link.

Usage: slow_relay.py BYTES_PER_SECOND STATS_FILE SECONDS -- PROGRAM [ARG]...

The relay sits between its own terminal (standard input and output) and a
new pseudo-terminal that runs PROGRAM.  Keys pass through at once.  The
program's output is read only as fast as the rate allows, from a token
bucket with 20 ms of burst.  Unsent output therefore stays in the program's
tty output queue, as it would behind a slow SSH link.  Every 100
ms it appends "TIME_S PENDING_BYTES SENT_BYTES" to STATS_FILE, where
PENDING_BYTES is the output waiting in the queue.  The program gets SIGTERM
after SECONDS; the relay exits with the program's status.
"""
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
import tty


def window_size(fd):
    try:
        return fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
    except OSError:
        return struct.pack("HHHH", 24, 80, 0, 0)


def pending(fd):
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0]


def spawn(argv):
    pid, master = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    return pid, master


def relay(master, pid, rate, stats, deadline):
    burst = max(1, int(rate * 0.02))
    tokens = burst
    last = time.monotonic()
    next_stats = last
    sent = 0
    start = last
    stdin = sys.stdin.fileno()
    stdout = sys.stdout.fileno()
    while True:
        now = time.monotonic()
        tokens = min(burst, tokens + (now - last) * rate)
        last = now
        if now >= next_stats:
            stats.write(f"{now - start:.2f} {pending(master)} {sent}\n")
            stats.flush()
            next_stats = now + 0.1
        if deadline and now >= deadline:
            os.kill(pid, signal.SIGTERM)
            deadline = None
        wait_out = [master] if tokens >= 1 else []
        timeout = 0.005 if tokens < 1 else 0.1
        ready, _, _ = select.select([stdin] + wait_out, [], [], timeout)
        if stdin in ready:
            data = os.read(stdin, 1024)
            if data:
                os.write(master, data)
        if master in ready:
            try:
                data = os.read(master, int(min(tokens, 65536)))
            except OSError:
                return
            if not data:
                return
            os.write(stdout, data)
            tokens -= len(data)
            sent += len(data)


def main():
    if len(sys.argv) < 6 or sys.argv[4] != "--":
        raise SystemExit(__doc__)
    rate = float(sys.argv[1])
    seconds = float(sys.argv[3])
    pid, master = spawn(sys.argv[5:])
    fcntl.ioctl(master, termios.TIOCSWINSZ, window_size(sys.stdout.fileno()))
    saved = termios.tcgetattr(sys.stdin.fileno())
    tty.setraw(sys.stdin.fileno())
    try:
        with open(sys.argv[2], "w") as stats:
            relay(master, pid, rate, stats, time.monotonic() + seconds)
    finally:
        termios.tcsetattr(sys.stdin.fileno(), termios.TCSADRAIN, saved)
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status) & 0xff)


if __name__ == "__main__":
    main()
