#!/usr/bin/python3
"""A real-time clock for the test microphone.

The ALSA `file` PCM used in tests (test/helpers/alsa.ts) has no clock: arecord
reads it at gigabytes per second. A sound card delivers audio at its sample rate;
this wrapper restores that: it runs the real /usr/bin/arecord with the same
arguments and forwards its output at SPEEDUP x real time. arecord's stderr and
exit status pass through unchanged, so device errors look exactly like arecord's.
Installed as `arecord` first on the daemon's PATH by the e2e tests.
"""
import os, signal, subprocess, sys, time

speed = float(os.environ.get("EARSHOT_TEST_MIC_SPEEDUP", "1"))
args = sys.argv[1:]
rate = 16000
for i, a in enumerate(args):
    if a == "-r" and i + 1 < len(args):
        rate = int(args[i + 1])
bytes_per_second = rate * 2 * speed
child = subprocess.Popen(["/usr/bin/arecord"] + args, stdout=subprocess.PIPE)

def stop(*_):
    child.terminate()
    try:
        child.wait(2)
    except subprocess.TimeoutExpired:
        child.kill()
    sys.exit(0)

signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
out = sys.stdout.buffer
sent = 0
t0 = time.monotonic()
try:
    while True:
        block = child.stdout.read(3200)
        if not block:
            break
        out.write(block)
        out.flush()
        sent += len(block)
        ahead = sent / bytes_per_second - (time.monotonic() - t0)
        if ahead > 0:
            time.sleep(ahead)
except BrokenPipeError:
    stop()
sys.exit(child.wait())
