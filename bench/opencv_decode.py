"""Decode-only reference: cv2.imread over the corpus with N processes (run with bench/.venv's python).

Usage: opencv_decode.py CORPUS_DIR full|reduced8 PROCESSES  — prints one JSON line.
"""
import json
import multiprocessing
import os
import sys
import time

import cv2


def decode(arguments):
    paths, flag = arguments
    cv2.setNumThreads(1)
    mode = cv2.IMREAD_REDUCED_COLOR_8 if flag == "reduced8" else cv2.IMREAD_COLOR
    failures = 0
    cpu = time.process_time()
    for path in paths:
        if cv2.imread(path, mode) is None:
            failures += 1
    return failures, time.process_time() - cpu


def main():
    directory, flag, processes = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(os.path.join(directory, "files.txt")) as handle:
        paths = [os.path.join(directory, line.strip()) for line in handle if line.strip()]
    # Interleaved slices so both processes get the same mix of sizes and formats.
    slices = [(paths[index::processes], flag) for index in range(processes)]
    # Fresh interpreters, not forks: a fork of a process whose OpenCV thread pool already exists can deadlock.
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        pool.map(len, [[0]] * processes)  # start the workers before the clock
        start = time.perf_counter()
        results = pool.map(decode, slices)
        elapsed = time.perf_counter() - start
    failures = sum(result[0] for result in results)
    cpu = sum(result[1] for result in results)
    print(json.dumps({"mode": flag, "images": len(paths), "failures": failures, "processes": processes,
                      "cpu_ms_per_image": cpu * 1000 / max(1, len(paths)),
                      "seconds": elapsed, "images_per_s": len(paths) / elapsed}))


if __name__ == "__main__":
    main()
