#!/usr/bin/env python3
"""Loopback relays in front of the real sonocloud for the upload tests.

stall LISTEN_PORT TARGET_PORT STALL_AFTER SECONDS
    A TCP relay.  The first connection that has carried STALL_AFTER bytes
    from the station stops forwarding in both directions but keeps both
    sockets open (a drop without a reset); it prints "stalled EPOCH-SECONDS"
    once.  Later
    connections are relayed normally.

fault LISTEN_PORT TARGET_PORT CERT KEY CLOUD_CERT STATUS SECONDS
    An HTTPS reverse proxy with its own certificate that forwards every
    request to the cloud (verified against CLOUD_CERT), except that the first
    PUT is answered with STATUS (503 comes with Retry-After: 1) after its
    body was read.  Prints "METHOD PATH STATUS" for each request.

hold LISTEN_PORT TARGET_PORT HOLD_AFTER RESUME_FILE SECONDS
    A TCP relay.  The first connection that has carried HOLD_AFTER bytes
    from the station stops forwarding, prints "held" once, and goes on once
    RESUME_FILE exists.  Later connections are relayed normally.

reset LISTEN_PORT TARGET_PORT CERT KEY CLOUD_CERT SECONDS
    Like fault, except that the first PUT gets the head and part of the
    body of a 401 after 64 KiB of its body were read, and 1 s later a TCP
    reset while the station still sends the body.  The station has read
    the 401 by then, and the reset ends the transfer with an error.

All print "listening PORT" when ready and exit after SECONDS."""
import os
import http.client
import http.server
import select
import socket
import ssl
import struct
import sys
import threading
import time


def log(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def stall_pump(client, upstream, state):
    sent = 0
    pair = {client: upstream, upstream: client}
    stalled = hold = False
    while True:
        if hold:
            while not os.path.exists(state["resume"]):
                time.sleep(0.1)
            hold = False
        if stalled:
            time.sleep(1.0)  # hold both sockets open, forward nothing
            continue
        readable, _, _ = select.select([client, upstream], [], [], 1.0)
        for sock in readable:
            data = sock.recv(65536)
            if not data:
                client.close()
                upstream.close()
                return
            if sock is client:
                sent += len(data)
            pair[sock].sendall(data)
        with state["lock"]:
            if not state["done"] and sent >= state["after"]:
                state["done"] = True
                if state["resume"] is None:
                    stalled = True
                    log("stalled %.3f" % time.time())
                else:
                    hold = True
                    log("held")


def run_stall(listen_port, target_port, after, resume=None):
    state = {"lock": threading.Lock(), "done": False, "after": after, "resume": resume}
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", listen_port))
    server.listen(16)
    log("listening %d" % listen_port)
    while True:
        client, _ = server.accept()
        upstream = socket.create_connection(("127.0.0.1", target_port))
        threading.Thread(target=stall_pump, args=(client, upstream, state), daemon=True).start()


class FaultHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    first_put_done = False
    lock = threading.Lock()

    def log_message(self, fmt, *args):
        pass

    def reply_and_reset(self, length):
        """Reads 64 KiB of the body, sends most of a 401 reply and resets
        the connection."""
        self.rfile.read(min(length, 65536))
        reply = b'{"error":"invalid_token","message":"injected: the session is not valid"}'
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply) + 100))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(reply)
        self.wfile.flush()
        log("%s %s 401 reset" % (self.command, self.path))
        time.sleep(1.0)
        # Closing with SO_LINGER 0 sends a reset instead of a FIN.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def relay(self):
        length = int(self.headers.get("Content-Length", "0"))
        with FaultHandler.lock:
            inject = self.command == "PUT" and not FaultHandler.first_put_done
            if inject:
                FaultHandler.first_put_done = True
        if inject and self.server.fault_status == "reset":
            self.reply_and_reset(length)
            return
        body = self.rfile.read(length) if length else None
        if inject:
            status = self.server.fault_status
            reply = b'{"error":"injected","message":"injected fault"}'
            self.send_response(status)
            if status == 503:
                self.send_header("Retry-After", "1")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
            log("%s %s %d" % (self.command, self.path, status))
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        conn = http.client.HTTPSConnection("127.0.0.1", self.server.target_port,
                                           context=self.server.upstream_ctx, timeout=30)
        conn.request(self.command, self.path, body=body, headers=headers)
        answer = conn.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()
        log("%s %s %d" % (self.command, self.path, answer.status))

    do_GET = do_POST = do_PUT = do_DELETE = relay


def run_fault(listen_port, target_port, cert, key, cloud_cert, status):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", listen_port), FaultHandler)
    server.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    upstream = ssl.create_default_context(cafile=cloud_cert)
    upstream.check_hostname = False
    server.upstream_ctx = upstream
    server.target_port = target_port
    server.fault_status = status
    log("listening %d" % listen_port)
    server.serve_forever()


def main():
    mode = sys.argv[1]
    seconds = float(sys.argv[-1])
    timer = threading.Timer(seconds, lambda: __import__("os")._exit(0))
    timer.daemon = True
    timer.start()
    if mode == "stall":
        run_stall(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    elif mode == "hold":
        run_stall(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif mode == "fault":
        run_fault(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6],
                  int(sys.argv[7]))
    elif mode == "reset":
        run_fault(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6],
                  "reset")
    else:
        sys.exit("unknown mode " + mode)


main()
