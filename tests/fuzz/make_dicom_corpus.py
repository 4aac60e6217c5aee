#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_dicom: small synthetic DICOM Part 10 files
that reach each path of the reader (both VR encodings, every colour model,
sequences of defined and undefined length, compressed syntaxes).

Run from the repository root: python3 tests/fuzz/make_dicom_corpus.py
"""
import os
import struct

OUT = os.path.join(os.path.dirname(__file__), "corpus", "fuzz_dicom")
EXPLICIT = "1.2.840.10008.1.2.1"
IMPLICIT = "1.2.840.10008.1.2"
LONG_VRS = {"OB", "OW", "SQ", "UN", "UT"}
UNDEFINED = 0xFFFFFFFF


def element(group, elem, vr, value, implicit, length=None):
    n = len(value) if length is None else length
    head = struct.pack("<HH", group, elem)
    if implicit:
        return head + struct.pack("<I", n) + value
    if vr in LONG_VRS:
        return head + vr.encode() + b"\0\0" + struct.pack("<I", n) + value
    return head + vr.encode() + struct.pack("<H", n) + value


def text(s, pad=b" "):
    b = s.encode()
    return b + pad if len(b) % 2 else b


def us(v):
    return struct.pack("<H", v)


def delimiter(elem):
    return struct.pack("<HHI", 0xFFFE, elem, 0)


def item(body, undefined):
    if undefined:
        return struct.pack("<HHI", 0xFFFE, 0xE000, UNDEFINED) + body + delimiter(0xE00D)
    return struct.pack("<HHI", 0xFFFE, 0xE000, len(body)) + body


def part10(syntax, body):
    meta = element(0x0002, 0x0010, "UI", text(syntax, b"\0"), False)
    return b"\0" * 128 + b"DICM" + meta + body


def image(implicit, photometric, samples, rows, cols, bits, stored=None):
    stored = stored or bits
    e = lambda g, el, vr, v: element(g, el, vr, v, implicit)
    return (e(0x0028, 0x0002, "US", us(samples)) + e(0x0028, 0x0004, "CS", text(photometric))
            + e(0x0028, 0x0010, "US", us(rows)) + e(0x0028, 0x0011, "US", us(cols))
            + e(0x0028, 0x0100, "US", us(bits)) + e(0x0028, 0x0101, "US", us(stored))
            + e(0x0028, 0x0102, "US", us(stored - 1)) + e(0x0028, 0x0103, "US", us(0)))


def regions(implicit, undefined):
    e = lambda g, el, vr, v: element(g, el, vr, v, implicit)
    body = (e(0x0018, 0x6024, "US", us(3)) + e(0x0018, 0x6026, "US", us(3))
            + e(0x0018, 0x602C, "FD", struct.pack("<d", 0.02))
            + e(0x0018, 0x602E, "FD", struct.pack("<d", 0.02)))
    if undefined:
        return element(0x0018, 0x6011, "SQ", item(body, True) + delimiter(0xE0DD), implicit,
                       UNDEFINED)
    return element(0x0018, 0x6011, "SQ", item(body, False), implicit)


def palette(implicit, entries, bits, tables, segmented=False):
    desc = struct.pack("<HHH", entries, 0, bits)
    out = b"".join(element(0x0028, 0x1101 + i, "US", desc, implicit) for i in range(3))
    base = 0x1221 if segmented else 0x1201
    return out + b"".join(element(0x0028, base + i, "OW", t, implicit) for i, t in enumerate(tables))


def pixels(implicit, data, vr="OB"):
    return element(0x7FE0, 0x0010, vr, data, implicit)


def seeds():
    s = {}
    s["explicit_mono8"] = part10(EXPLICIT, element(0x0008, 0x0070, "LO", text("ACME"), False)
                                 + image(False, "MONOCHROME2", 1, 4, 4, 8)
                                 + element(0x0028, 0x0030, "DS", text("0.2\\0.2"), False)
                                 + pixels(False, bytes(range(16))))
    s["implicit_regions"] = part10(IMPLICIT, regions(True, True) + image(True, "MONOCHROME1", 1, 2, 2, 8)
                                   + pixels(True, b"\0\x40\x80\xff", "OW"))
    s["explicit_regions_defined"] = part10(EXPLICIT, regions(False, False)
                                           + image(False, "MONOCHROME2", 1, 2, 2, 8)
                                           + pixels(False, b"\1\2\3\4"))
    s["mono16_window"] = part10(EXPLICIT, image(False, "MONOCHROME2", 1, 2, 2, 16, 12)
                                + element(0x0028, 0x1050, "DS", text("2048"), False)
                                + element(0x0028, 0x1051, "DS", text("4096"), False)
                                + pixels(False, struct.pack("<4H", 0, 1024, 2048, 4095), "OW"))
    s["rgb_planar1_multiframe"] = part10(EXPLICIT, image(False, "RGB", 3, 2, 2, 8)
                                         + element(0x0028, 0x0006, "US", us(1), False)
                                         + element(0x0028, 0x0008, "IS", text("2"), False)
                                         + pixels(False, bytes(range(24))))
    s["ybr_full"] = part10(EXPLICIT, image(False, "YBR_FULL", 3, 1, 2, 8)
                           + element(0x0028, 0x0006, "US", us(0), False)
                           + pixels(False, bytes([100, 128, 128, 76, 85, 255])))
    lut = struct.pack("<4H", 10, 20, 30, 40)
    s["palette8"] = part10(EXPLICIT, image(False, "PALETTE COLOR", 1, 2, 2, 8)
                           + palette(False, 4, 8, [lut, lut, lut]) + pixels(False, b"\0\1\2\3"))
    seg = struct.pack("<14H", 0, 2, 0, 0x1000, 1, 2, 0x3000, 0, 1, 0xFF00, 2, 1, 0, 0)
    s["palette_segmented"] = part10(IMPLICIT, image(True, "PALETTE COLOR", 1, 2, 4, 16)
                                    + palette(True, 8, 16, [seg, seg, seg], True)
                                    + pixels(True, struct.pack("<8H", *range(8)), "OW"))
    private = (element(0x0009, 0x1010, "SQ", b"", False, UNDEFINED)
               + item(element(0x0009, 0x1011, "LO", text("x"), False), True) + delimiter(0xE0DD))
    s["private_sequence"] = part10(EXPLICIT, private + image(False, "MONOCHROME2", 1, 1, 2, 8)
                                   + pixels(False, b"\0\0"))
    s["jpeg2000"] = part10("1.2.840.10008.1.2.4.90", b"")
    return s


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(OUT, name + ".dcm"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
