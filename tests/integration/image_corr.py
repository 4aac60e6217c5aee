#!/usr/bin/env python3
"""Correlate a region of a screenshot with a reference image.

Usage: image_corr.py SCREEN.pgm REFERENCE.pgm X Y [SEARCH]

Both files are binary PGM (P5, 8-bit).  The reference is compared with the
screenshot region of the same size whose top-left corner is near (X, Y).
Window borders shift the image by a few pixels, so every offset up to
SEARCH pixels (default 6) in each direction is tried.  Prints the best
Pearson correlation and its offset, "0.9731 dx=3 dy=2".  Plain Python, so
it runs where numpy is not installed.
"""
import math
import sys


def read_pgm(path):
    with open(path, "rb") as f:
        data = f.read()
    fields = []
    pos = 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            while data[pos:pos + 1] not in (b"\n", b""):
                pos += 1
            continue
        start = pos
        while not data[pos:pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    if fields[0] != b"P5" or int(fields[3]) != 255:
        raise SystemExit(f"{path}: not an 8-bit binary PGM")
    width, height = int(fields[1]), int(fields[2])
    pixels = data[pos + 1:pos + 1 + width * height]
    if len(pixels) != width * height:
        raise SystemExit(f"{path}: truncated pixel data")
    return width, height, pixels


def correlation(screen, ref, x0, y0, step):
    sw, sh, spx = screen
    rw, rh, rpx = ref
    if x0 < 0 or y0 < 0 or x0 + rw > sw or y0 + rh > sh:
        return -1.0
    n = sa = sb = saa = sbb = sab = 0
    for y in range(0, rh, step):
        srow = (y0 + y) * sw + x0
        rrow = y * rw
        for x in range(0, rw, step):
            a = spx[srow + x]
            b = rpx[rrow + x]
            n += 1
            sa += a
            sb += b
            saa += a * a
            sbb += b * b
            sab += a * b
    var_a = saa - sa * sa / n
    var_b = sbb - sb * sb / n
    if var_a <= 0 or var_b <= 0:
        return 0.0
    return (sab - sa * sb / n) / math.sqrt(var_a * var_b)


def main():
    if len(sys.argv) not in (5, 6):
        raise SystemExit(__doc__)
    screen = read_pgm(sys.argv[1])
    ref = read_pgm(sys.argv[2])
    x, y = int(sys.argv[3]), int(sys.argv[4])
    search = int(sys.argv[5]) if len(sys.argv) == 6 else 6

    # Coarse search on every fourth pixel, then the full comparison at the
    # best offset.
    best = max((correlation(screen, ref, x + dx, y + dy, 4), dx, dy)
               for dy in range(-search, search + 1)
               for dx in range(-search, search + 1))
    _, dx, dy = best
    value = correlation(screen, ref, x + dx, y + dy, 1)
    print(f"{value:.4f} dx={dx} dy={dy}")


if __name__ == "__main__":
    main()
