"""PSNR of PixCrawler's center_crop outputs against OpenCV's INTER_AREA resize of the same crop.

Usage: resize_psnr.py EXPORT.tar CORPUS_DIR SIZE
EXPORT.tar is a `pixcrawl export --format tar --resize SIZE --resize-mode center_crop` archive; its manifest.csv
names each output (`path`) and its source (`original_url`, whose last component is the corpus file). Prints one JSON
line: the number compared, the minimum and mean PSNR in dB.
"""
import csv
import io
import json
import math
import os
import sys
import tarfile

import cv2
import numpy


def psnr(a, b):
    mse = numpy.mean((a.astype(numpy.float64) - b.astype(numpy.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def reference(original, size):
    """The centred square of the shorter side, resized with INTER_AREA to SIZE x SIZE."""
    height, width = original.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    crop = original[top:top + side, left:left + side]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)


def main():
    archive, corpus, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    values = []
    with tarfile.open(archive) as tar:
        members = {member.name: member for member in tar.getmembers() if member.isfile()}
        manifest = next(name for name in members if name.endswith("manifest.csv"))
        rows = csv.DictReader(io.TextIOWrapper(tar.extractfile(members[manifest]), encoding="utf-8"))
        for row in rows:
            name = next((n for n in members if n.endswith(row["path"])), None)
            if name is None:
                continue
            data = numpy.frombuffer(tar.extractfile(members[name]).read(), dtype=numpy.uint8)
            output = cv2.imdecode(data, cv2.IMREAD_COLOR)
            original = cv2.imread(os.path.join(corpus, os.path.basename(row["original_url"])), cv2.IMREAD_COLOR)
            if output is None or original is None or output.shape[:2] != (size, size):
                raise SystemExit(f"cannot compare {row['path']}")
            values.append(psnr(output, reference(original, size)))
    print(json.dumps({"compared": len(values), "min_psnr_db": min(values) if values else None,
                      "mean_psnr_db": sum(values) / len(values) if values else None}))


if __name__ == "__main__":
    main()
