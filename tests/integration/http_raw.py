#!/usr/bin/env python3
"""Sends raw HTTP/1.1 bytes to a TLS server on loopback and records the replies.

Usage: http_raw.py PORT CAFILE OUT.json [--continue BODYFILE] [--wait SECONDS]
                   [--reply-only] < REQUEST

Sends REQUEST (stdin) as it is, without reading until all of it is sent,
then reads until the server closes the connection or sends nothing for
--wait seconds.  With --continue, it first waits for an interim "100
Continue" reply and then sends BODYFILE.  With --reply-only, reading also
stops after the first final reply.  OUT.json gets {"responses": [{"status",
"headers", "body"}], "closed", "idle", "interim", "send_error",
"reply_only"}: header names are lowercased, "closed" is true when the server
ended the connection, "idle" when reading stopped because nothing arrived,
"interim" lists the statuses of 1xx replies, and "send_error" is the error
that ended sending (such as a connection reset), or null.
"""
import argparse
import json
import socket
import ssl
import sys


def read_head(data):
    """Splits one response head off data: (status, headers, rest) or None."""
    end = data.find(b"\r\n\r\n")
    if end < 0:
        return None
    lines = data[:end].decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return status, headers, data[end + 4:]


def parse_responses(data):
    """Returns the complete responses in data and the 1xx statuses."""
    responses, interim = [], []
    while True:
        head = read_head(data)
        if head is None:
            return responses, interim
        status, headers, rest = head
        if 100 <= status < 200:
            interim.append(status)
            data = rest
            continue
        length = int(headers.get("content-length", ["0"])[-1])
        if len(rest) < length:
            return responses, interim
        responses.append({"status": status, "headers": headers,
                          "body": rest[:length].decode("utf-8", "replace")})
        data = rest[length:]


def receive(sock, data, wait, until_interim=False, until_reply=False):
    """Reads into data until close, idleness or (optionally) a 1xx or a
    final reply."""
    sock.settimeout(wait)
    while True:
        if until_interim and parse_responses(data)[1]:
            return data, False, False
        if until_reply and parse_responses(data)[0]:
            return data, False, False
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return data, False, True
        except (ConnectionResetError, ssl.SSLError, OSError):
            return data, True, False
        if not chunk:
            return data, True, False
        data += chunk


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("cafile")
    parser.add_argument("out")
    parser.add_argument("--continue", dest="body", help="body to send after 100 Continue")
    parser.add_argument("--wait", type=float, default=20.0,
                        help="seconds without data after which reading stops")
    parser.add_argument("--reply-only", action="store_true",
                        help="stop reading after the first final reply")
    args = parser.parse_args()

    ctx = ssl.create_default_context(cafile=args.cafile)
    ctx.check_hostname = False
    sock = ctx.wrap_socket(socket.create_connection(("127.0.0.1", args.port)))
    data, closed, idle, send_error = b"", False, False, None
    try:
        sock.sendall(sys.stdin.buffer.read())
    except OSError as e:
        send_error = "%s: %s" % (type(e).__name__, e)
    if args.body is not None and send_error is None:
        data, closed, idle = receive(sock, data, args.wait, until_interim=True)
        if not closed and not idle:
            with open(args.body, "rb") as body:
                sock.sendall(body.read())
    if not closed:
        data, closed, idle = receive(sock, data, args.wait, until_reply=args.reply_only)
    responses, interim = parse_responses(data)
    with open(args.out, "w") as out:
        json.dump({"responses": responses, "closed": closed, "idle": idle,
                   "interim": interim, "send_error": send_error,
                   "reply_only": args.reply_only}, out)


if __name__ == "__main__":
    main()
