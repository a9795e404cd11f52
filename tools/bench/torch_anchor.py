"""PyTorch timing anchor for `npm run bench` (timing only; never used for results).

A small PyTorch implementation of the same AnomalyBERT architecture as kernel-lib's
(`anomalybert/`): patch embedding, pre-norm encoder layers with a learned relative position bias
(gathered from the table every forward pass, as the original does), exact GELU, LayerNorm eps 1e-6,
MLP head. It times, on the configuration given as JSON in argv[1]:
  - inference: windows/s of forward + sigmoid on batches of `batch` windows under no_grad;
  - training: seconds per step of forward + BCE + backward + clip-norm + AdamW at batch `batch`.
Wall and CPU time (process_time, all threads) are both reported: on a shared machine the CPU time
is the steadier measure of the work done.
Threads: `threads` (default 1, the original's fastest setting on this machine). Prints one JSON
object on stdout. Run with Debian's python3 (python3-torch).
"""
import json
import math
import resource
import sys
import time

import torch
from torch import nn


class Attention(nn.Module):
    def __init__(self, d, n_tokens, n_head):
        super().__init__()
        self.h, self.dk = n_head, d // n_head
        self.word_fc_layers = nn.ModuleList([nn.Linear(d, d) for _ in range(3)])
        self.output_fc_layer = nn.Linear(d, d)
        self.relative_position_embedding_table = nn.Parameter(torch.randn(2 * n_tokens - 1, n_head) * 0.02)
        i = torch.arange(n_tokens)
        self.register_buffer('relative_index', (i[:, None] - i[None, :] + n_tokens - 1).reshape(-1))
        self.n = n_tokens

    def forward(self, x):  # (b, N, D)
        b, n, d = x.shape
        q, k, v = [fc(x).view(b, n, self.h, self.dk).transpose(1, 2) for fc in self.word_fc_layers]
        bias = self.relative_position_embedding_table[self.relative_index].view(n, n, self.h).permute(2, 0, 1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.dk) + bias
        out = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, n, d)
        return self.output_fc_layer(out)


class EncoderLayer(nn.Module):
    def __init__(self, d, hidden, n_tokens, n_head, dropout):
        super().__init__()
        self.attention_layer = Attention(d, n_tokens, n_head)
        self.first_fc_layer = nn.Linear(d, hidden)
        self.second_fc_layer = nn.Linear(hidden, d)
        self.norm_layers = nn.ModuleList([nn.LayerNorm(d, eps=1e-6) for _ in range(2)])
        self.dropout = nn.Dropout(dropout)
        self.gelu = nn.GELU()

    def forward(self, x):
        x = x + self.dropout(self.attention_layer(self.norm_layers[0](x)))
        ff = self.second_fc_layer(self.dropout(self.gelu(self.first_fc_layer(self.norm_layers[1](x)))))
        return x + self.dropout(ff)


class AnomalyBert(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, hidden = c['dEmbed'], c.get('hiddenDim') or 4 * c['dEmbed']
        per_point = c['inputDim'] * (2 if c.get('diffScales') else 1)
        self.c = c
        self.linear_embedding = nn.Linear(c['patchSize'] * per_point, d)
        self.encoder_layers = nn.ModuleList([EncoderLayer(d, hidden, c['nTokens'], c['nHead'], c['dropout']) for _ in range(c['nLayer'])])
        self.mlp_layers = nn.Sequential(nn.Linear(d, hidden), nn.GELU(), nn.Linear(hidden, c['patchSize'] * c['outputDim']))

    def forward(self, x):  # (b, W, C)
        b, w, _ = x.shape
        if self.c.get('diffScales'):
            s = torch.tensor(self.c['diffScales'], dtype=x.dtype)
            d = torch.asinh((x[:, 1:] - x[:, :-1]) / s)
            x = torch.cat([x, torch.cat([torch.zeros_like(x[:, :1]), d], 1)], 2)
        h = self.linear_embedding(x.reshape(b, self.c['nTokens'], -1))
        for layer in self.encoder_layers:
            h = layer(h)
        return self.mlp_layers(h).reshape(b, w, self.c['outputDim'])


def main():
    spec = json.loads(sys.argv[1])
    torch.set_num_threads(int(spec.get('threads', 1)))
    torch.manual_seed(0)
    c = spec['config']
    model = AnomalyBert(c)
    w = c['nTokens'] * c['patchSize']
    batch = int(spec.get('batch', 16))
    x = torch.rand(batch, w, c['inputDim'])
    out = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'batch': batch, 'parameters': sum(p.numel() for p in model.parameters())}
    if spec.get('infer', True):
        model.eval()
        windows = int(spec.get('infer_windows', 64))
        with torch.no_grad():
            torch.sigmoid(model(x[:1]))  # warm-up
            t0 = time.perf_counter()
            c0 = time.process_time()
            done = 0
            while done < windows:
                k = min(batch, windows - done)
                torch.sigmoid(model(x[:k]))
                done += k
            seconds = time.perf_counter() - t0
            cpu = time.process_time() - c0
        out['infer'] = {'windows': windows, 'seconds': seconds, 'windowsPerSecond': windows / seconds, 'cpu_s_per_window': cpu / windows}
    steps = int(spec.get('train_steps', 0))
    if steps > 0:
        model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
        y = (torch.rand(batch, w, c['outputDim']) < 0.1).float()
        loss_fn = nn.BCEWithLogitsLoss()

        def step():
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x), y)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()

        warm = spec.get('train_warmup', True)
        t0 = time.perf_counter()
        if warm:
            step()
        warm_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        c0 = time.process_time()
        for _ in range(steps):
            step()
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - c0
        out['train'] = {'steps': steps, 'warmup_s': warm_s if warm else None, 's_per_step': seconds / steps, 'steps_per_s': steps / seconds, 'cpu_s_per_step': cpu / steps}
    # Linux ru_maxrss is in KiB: the process's peak resident set.
    out['peak_rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


if __name__ == '__main__':
    main()
