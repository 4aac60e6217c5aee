#!/usr/bin/env python3
"""Writes the reference PPM of a PALETTE COLOR DICOM image for the link tests.

DCMTK 3.6.7's dcm2pnm rejects segmented palettes, so this script reads the
element values from `dcmdump +L` (DCMTK) and expands the palettes itself, as
an implementation independent of the station's DICOM reader.  Segmented
palettes follow DICOM PS3.3 C.7.9.2: opcode 0 is a run of discrete values,
opcode 1 a linear ramp from the previous value (interpolated values are
truncated, as GDCM does), opcode 2 an indirect segment (not supported here).
16-bit palette entries become 8-bit output by keeping the high byte.

usage: palette_ref.py DICOM_FILE OUT.ppm
"""
import re
import subprocess
import sys

CHANNELS = ("Red", "Green", "Blue")


def elements(path):
    text = subprocess.run(["dcmdump", "+L", path], check=True, capture_output=True,
                          text=True).stdout
    values = {}
    for line in text.splitlines():
        m = re.match(r"^\((\w{4}),(\w{4})\) \w\w (\S+)", line)
        if m:
            values[(m.group(1).lower() + m.group(2).lower())] = m.group(3)
    return values


def words(value):
    return [int(w, 16) for w in value.split("\\")]


def numbers(value):
    return [int(n) for n in value.split("\\")]


def expand_segmented(data, entries):
    out = []
    pos = 0
    while pos < len(data):
        opcode, length = data[pos], data[pos + 1]
        if opcode == 0:
            out.extend(data[pos + 2:pos + 2 + length])
            pos += 2 + length
        elif opcode == 1:
            y0, y1 = out[-1], data[pos + 2]
            out.extend(int(y0 + (j / length) * (y1 - y0)) for j in range(1, length + 1))
            pos += 3
        else:
            raise SystemExit("segment opcode %d is not supported by this reference" % opcode)
    return (out + [out[-1]] * entries)[:entries]


def palette(values, channel, tag_descriptor, tag_plain, tag_segmented):
    entries, first, bits = numbers(values[tag_descriptor])
    entries = entries or 65536
    if tag_segmented in values:
        table = expand_segmented(words(values[tag_segmented]), entries)
    else:
        table = words(values[tag_plain])
    shift = 8 if bits == 16 else 0
    return first, [v >> shift for v in table]


def main():
    path, out = sys.argv[1], sys.argv[2]
    values = elements(path)
    rows, cols = int(values["00280010"]), int(values["00280011"])
    tables = [palette(values, c, "0028110%d" % (1 + i), "0028120%d" % (1 + i),
                      "0028122%d" % (1 + i)) for i, c in enumerate(CHANNELS)]
    pixels = words(values["7fe00010"])[:rows * cols]
    body = bytearray()
    for p in pixels:
        for first, table in tables:
            index = min(max(p - first, 0), len(table) - 1)
            body.append(table[index])
    with open(out, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (cols, rows))
        f.write(body)


if __name__ == "__main__":
    main()
