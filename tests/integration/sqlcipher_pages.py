#!/usr/bin/env python3
"""Decrypt every page of a SQLCipher 3 database (raw key, 4096-byte pages,
HMAC on) to standard output, including free pages, so a test can search
the bytes SQL cannot reach.  Usage: sqlcipher_pages.py DB KEYFILE.

Layout (SQLCipher 3.4): page 1 starts with a 16-byte plaintext salt.  Every
page ends with a 48-byte reserve whose first 16 bytes are the AES-256-CBC
IV of that page."""
import sys

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

PAGE = 4096
RESERVE = 48


def main():
    db, keyfile = sys.argv[1], sys.argv[2]
    key = open(keyfile, "rb").read()
    if len(key) != 32:
        sys.exit("raw 32-byte key file expected")
    data = open(db, "rb").read()
    out = sys.stdout.buffer
    for offset in range(0, len(data) - PAGE + 1, PAGE):
        page = data[offset:offset + PAGE]
        start = 16 if offset == 0 else 0
        iv = page[PAGE - RESERVE:PAGE - RESERVE + 16]
        dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        out.write(dec.update(page[start:PAGE - RESERVE]) + dec.finalize())


main()
