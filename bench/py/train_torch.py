"""PyTorch peer of bench/train.bench.ts: the same Kong et al. decision_level_multi_attention
head (3 x Dense1024+BN+ReLU+Dropout, two attention heads, Dense 527), Adam 1e-3, BCE,
batch 500 of [10, 128] inputs, 2 threads. Prints one JSON line."""
import json
import os
import sys
import time

import torch
import torch.nn as nn

torch.set_num_threads(int(os.environ.get("THREADS", "2")))
torch.manual_seed(0)

T, D, H, C = 10, 128, 1024, 527
EPS = 1e-7


class Block(nn.Module):
    def __init__(self, i, o):
        super().__init__()
        self.fc = nn.Linear(i, o)
        self.bn = nn.BatchNorm1d(o, eps=1e-3, momentum=0.01)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):  # x [N, T, i]
        n, t, _ = x.shape
        h = self.fc(x).reshape(n * t, -1)
        return self.drop(torch.relu(self.bn(h))).reshape(n, t, -1)


def att_pool(cla, att):
    att = torch.clamp(att, EPS, 1 - EPS)
    return (cla * att / att.sum(dim=1, keepdim=True)).sum(dim=1)


class MultiAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.b1, self.b2, self.b3 = Block(D, H), Block(H, H), Block(H, H)
        self.cla1, self.att1 = nn.Linear(H, C), nn.Linear(H, C)
        self.cla2, self.att2 = nn.Linear(H, C), nn.Linear(H, C)
        self.out = nn.Linear(2 * C, C)

    def forward(self, x):
        a2 = self.b2(self.b1(x))
        a3 = self.b3(a2)
        o1 = att_pool(torch.sigmoid(self.cla1(a2)), torch.softmax(self.att1(a2), dim=-1))
        o2 = att_pool(torch.sigmoid(self.cla2(a3)), torch.softmax(self.att2(a3), dim=-1))
        return torch.sigmoid(self.out(torch.cat([o1, o2], dim=-1)))


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    eval_clips = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    batch = 500
    model = MultiAttention()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    x = torch.rand(batch, T, D) * 2 - 1
    y = (torch.rand(batch, C) < 0.01).float()
    model.train()
    for _ in range(2):  # warm-up
        opt.zero_grad()
        nn.functional.binary_cross_entropy(model(x).clamp(EPS, 1 - EPS), y).backward()
        opt.step()
    t0 = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.binary_cross_entropy(model(x).clamp(EPS, 1 - EPS), y)
        loss.backward()
        opt.step()
    train_s = time.perf_counter() - t0
    model.eval()
    xe = torch.rand(eval_clips, T, D) * 2 - 1
    with torch.no_grad():
        model(xe[:batch])
        t0 = time.perf_counter()
        for s in range(0, eval_clips, batch):
            model(xe[s:s + batch])
        eval_s = time.perf_counter() - t0
    print(json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "trainSteps": steps,
        "trainClipsPerSecond": steps * batch / train_s,
        "trainSecondsPerStep": train_s / steps,
        "evalClipsPerSecond": eval_clips / eval_s,
    }))


if __name__ == "__main__":
    main()
