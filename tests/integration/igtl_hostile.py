#!/usr/bin/env python3
"""A hostile OpenIGTLink scanner for the scanner-link tests.

The first connection gets the misbehaviour named by --case.  Every later
connection gets a valid hello and valid 64x48 gray frames, so a client that
survives the first connection and reconnects receives frames.  The server
serves at most --max-connections connections and stops after --lifetime
seconds, whichever comes first.  It prints "listening PORT" once it listens.
"""
import argparse
import json
import socket
import ssl
import struct
import sys
import time

POLY = 0x42F0E1EBA9EA3693
MASK = (1 << 64) - 1


def crc_table():
    table = []
    for i in range(256):
        value = i << 56
        for _ in range(8):
            value = ((value << 1) ^ POLY) if value & (1 << 63) else (value << 1)
            value &= MASK
        table.append(value)
    return table


TABLE = crc_table()


def crc64(data):
    crc = 0
    for byte in data:
        crc = TABLE[((crc >> 56) ^ byte) & 0xFF] ^ ((crc << 8) & MASK)
    return crc


def timestamp():
    now = time.time()
    seconds = int(now)
    return (seconds << 32) | int((now - seconds) * (1 << 32))


def header(kind, body, body_size=None, crc=None):
    return struct.pack(
        ">H12s20sQQQ", 1, kind.encode(), b"hostile", timestamp(),
        len(body) if body_size is None else body_size,
        crc64(body) if crc is None else crc)


def message(kind, body, **kw):
    return header(kind, body, **kw) + body


def image_body(width, height, components=1, pixels=None, depth=1):
    matrix = [0.5, 0, 0, 0, 0.5, 0, 0, 0, 1, 0, 0, 0]
    head = struct.pack(">HBBBB3H12f3H3H", 1, components, 3, 1, 1,
                       width, height, depth, *matrix, 0, 0, 0, width, height, depth)
    if pixels is None:
        pixels = bytes((x * 3 + y) & 0xFF for y in range(height) for x in range(width * components))
    return head + pixels


def hello():
    text = json.dumps({"serial": "SN-HOSTILE", "model": "hostile test scanner",
                       "firmware": "0", "capabilities": ["image"]}).encode()
    return message("STRING", struct.pack(">HH", 106, len(text)) + text)


def hostile_bytes(case):
    """Returns (bytes to send, then 'close' or 'hold' or 'slow')."""
    good = image_body(64, 48)
    if case == "body0":
        return message("IMAGE", b""), "hold"
    if case == "bodylarge":
        # The header promises 100 bytes more than the image holds; the next
        # message's bytes would be read as pixels.
        return message("IMAGE", good, body_size=len(good) + 100) + hello(), "hold"
    if case == "overflow":
        return message("IMAGE", image_body(65535, 65535, 3, pixels=b"\0" * 1024, depth=65535)), "hold"
    if case == "zero":
        return message("IMAGE", image_body(0, 0, pixels=b"")), "hold"
    if case == "huge":
        return message("IMAGE", image_body(65535, 65535, pixels=b"\x80" * 1024)), "hold"
    if case == "badcrc":
        return message("IMAGE", good, crc=crc64(good) ^ 1), "hold"
    if case == "truncated":
        return message("IMAGE", good)[: 58 + 500], "close"
    if case == "stall":
        return message("IMAGE", good)[: 58 + 500], "hold"
    if case == "slow":
        return message("IMAGE", good), "slow"
    if case == "wrongcert":
        return b"", "hold"
    raise SystemExit("unknown case " + case)


def serve_valid(conn, deadline):
    conn.sendall(hello())
    frame = 0
    while time.time() < deadline:
        pixels = bytes(((x + frame) & 0xFF) for x in range(64 * 48))
        conn.sendall(message("IMAGE", image_body(64, 48, pixels=pixels)))
        frame += 1
        time.sleep(0.02)


def serve_hostile(conn, case, deadline):
    data, then = hostile_bytes(case)
    if then == "slow":
        for i in range(len(data)):
            if time.time() >= deadline:
                return
            conn.sendall(data[i:i + 1])
            time.sleep(1.0)
        return
    conn.sendall(data)
    if then == "hold":
        # Keep the connection open until the client gives up on it.
        conn.settimeout(max(0.1, deadline - time.time()))
        try:
            while conn.recv(4096):
                pass
        except (OSError, socket.timeout):
            pass


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--case", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--wrong-cert")
    parser.add_argument("--wrong-key")
    parser.add_argument("--plain", action="store_true")
    parser.add_argument("--max-connections", type=int, default=4)
    parser.add_argument("--lifetime", type=float, default=40.0)
    args = parser.parse_args()

    good_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    good_ctx.load_cert_chain(args.cert, args.key)
    wrong_ctx = None
    if args.wrong_cert:
        wrong_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        wrong_ctx.load_cert_chain(args.wrong_cert, args.wrong_key)

    end = time.time() + args.lifetime
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    print("listening %d" % listener.getsockname()[1], flush=True)

    for index in range(args.max_connections):
        listener.settimeout(max(0.1, end - time.time()))
        try:
            raw, _ = listener.accept()
        except (OSError, socket.timeout):
            break
        ctx = wrong_ctx if (index == 0 and args.case == "wrongcert") else good_ctx
        conn = raw
        try:
            if not args.plain:
                raw.settimeout(5)
                conn = ctx.wrap_socket(raw, server_side=True)
                conn.settimeout(None)
            if index == 0:
                serve_hostile(conn, args.case, min(end, time.time() + 15))
            else:
                serve_valid(conn, min(end, time.time() + 15))
        except (OSError, ssl.SSLError) as e:
            print("connection %d ended: %s" % (index + 1, e), file=sys.stderr, flush=True)
        finally:
            conn.close()
        if time.time() >= end:
            break
    listener.close()


if __name__ == "__main__":
    main()
