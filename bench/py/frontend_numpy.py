#!/usr/bin/python3
"""numpy peer of earshot's log-mel frontend (VGGish mel_features algorithm, float64).

Usage: frontend_numpy.py SIGNAL.f64 OUT.f32 REPEATS
Reads 16 kHz float64 samples, computes log-mel frames REPEATS times (timed), writes the
last result as float32 and prints JSON timings
(wall and process CPU seconds). Same steps as the TypeScript version:
frame (no padding) -> periodic Hann -> |rfft(n=512)| -> dot mel matrix -> log(+0.01).
"""
import json
import sys
import time

import numpy as np

SR, WIN, HOP, NFFT, BANDS, LO, HI, LOG_OFFSET = 16000, 400, 160, 512, 64, 125.0, 7500.0, 0.01


def hz_to_mel(f):
    return 1127.0 * np.log(1.0 + f / 700.0)


def mel_matrix():
    bins = NFFT // 2 + 1
    bins_mel = hz_to_mel(np.linspace(0.0, SR / 2.0, bins))
    edges = np.linspace(hz_to_mel(LO), hz_to_mel(HI), BANDS + 2)
    m = np.empty((bins, BANDS))
    for i in range(BANDS):
        lo, ce, up = edges[i:i + 3]
        m[:, i] = np.maximum(0.0, np.minimum((bins_mel - lo) / (ce - lo), (up - bins_mel) / (up - ce)))
    m[0, :] = 0.0
    return m


def log_mel(x, window, mel):
    n = 1 + (x.shape[0] - WIN) // HOP
    frames = np.lib.stride_tricks.as_strided(x, shape=(n, WIN), strides=(x.strides[0] * HOP, x.strides[0]))
    spec = np.abs(np.fft.rfft(frames * window, NFFT))
    return np.log(np.dot(spec, mel) + LOG_OFFSET)


def main():
    x = np.fromfile(sys.argv[1], dtype='<f8')
    repeats = int(sys.argv[3])
    window = 0.5 - 0.5 * np.cos(2 * np.pi / WIN * np.arange(WIN))
    mel = mel_matrix()
    out = log_mel(x, window, mel)  # warm-up
    times, cpu = [], []
    for _ in range(repeats):
        c0 = time.process_time()
        t0 = time.perf_counter()
        out = log_mel(x, window, mel)
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    out.astype('<f4').tofile(sys.argv[2])
    print(json.dumps({"frames": int(out.shape[0]), "seconds": times, "cpuSeconds": cpu, "numpy": np.__version__}))


if __name__ == "__main__":
    main()
