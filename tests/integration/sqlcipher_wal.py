#!/usr/bin/env python3
"""Decrypt every frame of the WAL of a SQLCipher 3 database (raw key,
4096-byte pages) to standard output, so a test can search what the WAL
still holds.  Usage: sqlcipher_wal.py WAL KEYFILE.  A missing or empty WAL
prints nothing.

Layout: a 32-byte WAL header, then frames of a 24-byte header (page number
first, big-endian) and one page encrypted as in the database file: the
last 48 bytes are the reserve whose first 16 are the AES-256-CBC IV, and
page 1 starts with the 16-byte plaintext salt."""
import os
import struct
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PAGE = 4096
RESERVE = 48
FRAME_HEADER = 24


def main():
    wal, keyfile = sys.argv[1], sys.argv[2]
    key = open(keyfile, "rb").read()
    if not os.path.exists(wal):
        return
    data = open(wal, "rb").read()
    out = sys.stdout.buffer
    offset = 32
    while offset + FRAME_HEADER + PAGE <= len(data):
        number = struct.unpack(">I", data[offset:offset + 4])[0]
        page = data[offset + FRAME_HEADER:offset + FRAME_HEADER + PAGE]
        start = 16 if number == 1 else 0
        iv = page[PAGE - RESERVE:PAGE - RESERVE + 16]
        dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        out.write(dec.update(page[start:PAGE - RESERVE]) + dec.finalize())
        offset += FRAME_HEADER + PAGE


main()
