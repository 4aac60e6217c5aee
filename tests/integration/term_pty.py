#!/usr/bin/env python3
"""Run a command on a pseudo-terminal that plays a terminal emulator.

The harness sets the window size (cells and, optionally, pixels) on the
pty, starts the command with the pty as its controlling terminal and
replies to the queries the station sends, as the chosen terminal would:

  sixel   DA1 lists attribute 4 (sixel); CSI 16 t reports a 10x20 cell;
          CSI 14 t reports the text area.
  silent  never replies.
  zero    DA1 lists sixel, but every pixel size is reported as 0x0.
  bogus   DA1 lists sixel; TIOCGWINSZ and CSI 14 t report 640x480 pixels
          whatever the window size; CSI 16 t gets no answer.
  plain   DA1 without sixel (a VT220-class terminal); no size reports.

Everything the command writes goes to --output; the command's run time in
milliseconds is printed on stdout.  The command is killed after --timeout
seconds, and the exit status is then 124.
"""
import argparse
import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time

DA1_SIXEL = b"\033[?63;1;2;4;6;9;15;22c"
DA1_PLAIN = b"\033[?62;1;6;9;22c"
CELL_W, CELL_H = 10, 20


def replies(mode, cols, rows):
    """Map each query to the reply of the terminal being played."""
    if mode == "silent":
        return {}
    if mode == "sixel":
        return {
            b"\033[c": DA1_SIXEL,
            b"\033[16t": b"\033[6;%d;%dt" % (CELL_H, CELL_W),
            b"\033[14t": b"\033[4;%d;%dt" % (rows * CELL_H, cols * CELL_W),
        }
    if mode == "zero":
        return {b"\033[c": DA1_SIXEL, b"\033[16t": b"\033[6;0;0t", b"\033[14t": b"\033[4;0;0t"}
    if mode == "bogus":
        return {b"\033[c": DA1_SIXEL, b"\033[14t": b"\033[4;480;640t"}
    if mode == "plain":
        return {b"\033[c": DA1_PLAIN}
    raise SystemExit("unknown mode " + mode)


def set_winsize(fd, cols, rows, xpixel, ypixel):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, xpixel, ypixel))


def answer(master, pending, table):
    """Send replies for complete queries in pending; return what is left."""
    while True:
        found = [(pending.find(q), q) for q in table if pending.find(q) >= 0]
        if not found:
            return pending[-16:]
        pos, query = min(found)
        os.write(master, table[query])
        pending = pending[pos + len(query):]


def run(args):
    master, slave = os.openpty()
    set_winsize(slave, args.cols, args.rows, args.xpixel, args.ypixel)
    env = dict(os.environ, TERM=args.term)
    if args.colorterm is not None:
        env["COLORTERM"] = args.colorterm
    else:
        env.pop("COLORTERM", None)

    def make_controlling():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    start = time.monotonic()
    child = subprocess.Popen(args.command, stdin=slave, stdout=slave, stderr=slave,
                             env=env, preexec_fn=make_controlling, close_fds=True)
    os.close(slave)
    table = replies(args.mode, args.cols, args.rows)
    output, pending = bytearray(), b""
    deadline = start + args.timeout
    status = None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed its side
                data = b""
            output += data
            pending = answer(master, pending + data, table)
            if data:
                continue
        status = child.poll()
        if status is not None:
            break
    elapsed_ms = int((time.monotonic() - start) * 1000)
    if status is None:
        child.send_signal(signal.SIGKILL)
        child.wait()
        status = 124
    os.close(master)
    with open(args.output, "wb") as out:
        out.write(bytes(output))
    print(elapsed_ms)
    return status


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", required=True)
    p.add_argument("--cols", type=int, default=80)
    p.add_argument("--rows", type=int, default=24)
    p.add_argument("--xpixel", type=int, default=0, help="TIOCGWINSZ ws_xpixel")
    p.add_argument("--ypixel", type=int, default=0, help="TIOCGWINSZ ws_ypixel")
    p.add_argument("--term", default="xterm-256color")
    p.add_argument("--colorterm", default=None)
    p.add_argument("--timeout", type=float, default=10.0, help="seconds before the command is killed")
    p.add_argument("--output", required=True, help="file for everything the command wrote")
    p.add_argument("command", nargs="+")
    args = p.parse_args()
    if args.mode == "bogus":
        args.xpixel, args.ypixel = 640, 480
    sys.exit(run(args))


if __name__ == "__main__":
    main()
