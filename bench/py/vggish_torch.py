"""PyTorch peer for bench/vggish.bench.ts: VGGish in NCHW on the same formula weights.

Reads the earshot model directory the bench wrote (manifest.json + weights.bin, TF layouts),
converts to torch layouts, checks the golden embeddings, then times batch 1 and batch 32.
Usage: python3 vggish_torch.py MODEL_DIR GOLDEN_DIR BATCH1_ITERS BATCH32_ITERS -> JSON on stdout.
"""
import json
import resource
import sys
import time

t0 = time.perf_counter()
import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(2)
model_dir, golden_dir, iters1, iters32 = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

manifest = json.load(open(f"{model_dir}/manifest.json"))
blob = np.fromfile(f"{model_dir}/{manifest['weights']['file']}", dtype="<f4")
w = {}
for t in manifest["weights"]["tensors"]:
    n = int(np.prod(t["shape"]))
    off = t["offsetBytes"] // 4
    w[t["name"]] = blob[off:off + n].reshape(t["shape"])

convs = ["vggish/conv1", "vggish/conv2", "vggish/conv3/conv3_1", "vggish/conv3/conv3_2", "vggish/conv4/conv4_1", "vggish/conv4/conv4_2"]
pool_after = {"vggish/conv1", "vggish/conv2", "vggish/conv3/conv3_2", "vggish/conv4/conv4_2"}
conv_w = [(torch.from_numpy(np.ascontiguousarray(w[c + "/weights"].transpose(3, 2, 0, 1))), torch.from_numpy(w[c + "/biases"].copy()), c in pool_after) for c in convs]
fcs = ["vggish/fc1/fc1_1", "vggish/fc1/fc1_2", "vggish/fc2"]
fc_w = [(torch.from_numpy(np.ascontiguousarray(w[f + "/weights"].T)), torch.from_numpy(w[f + "/biases"].copy())) for f in fcs]
del blob, w
load_seconds = time.perf_counter() - t0


def forward(x):  # x: [N, 96, 64] log-mel
    x = x.unsqueeze(1)  # NCHW, C = 1
    for weight, bias, pool in conv_w:
        x = F.relu(F.conv2d(x, weight, bias, padding=1))
        if pool:
            x = F.max_pool2d(x, 2, 2)
    x = x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)  # flatten in NHWC order like TF
    for i, (weight, bias) in enumerate(fc_w):
        x = F.linear(x, weight, bias)
        if i < 2:
            x = F.relu(x)
    return x


def peak_rss_mb():
    """This process's own peak RSS in MB (VmHWM, KiB); ru_maxrss would also count the spawning parent's."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024 / 1e6
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6


golden_in = torch.from_numpy(np.fromfile(f"{golden_dir}/input.f32", dtype="<f4").reshape(-1, 96, 64))
golden_out = np.fromfile(f"{golden_dir}/embedding.f32", dtype="<f4").reshape(-1, 128)
with torch.inference_mode():
    got = forward(golden_in).numpy()
    rel = float(np.abs(got - golden_out).max() / np.abs(golden_out).max())

    def rate(batch, iters):
        x = torch.from_numpy(np.random.default_rng(0).standard_normal((batch, 96, 64), dtype=np.float32))
        forward(x)  # warm-up
        t = time.perf_counter()
        for _ in range(iters):
            forward(x)
        return batch * iters / (time.perf_counter() - t)

    r1 = rate(1, iters1)
    r32 = rate(32, iters32)

print(json.dumps({
    "torch": torch.__version__,
    "threads": torch.get_num_threads(),
    "goldenRelDiff": rel,
    "loadSeconds": load_seconds,
    "patchesPerSecondBatch1": r1,
    "patchesPerSecondBatch32": r32,
    "maxRssMB": peak_rss_mb(),
}))
