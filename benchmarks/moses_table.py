#!/usr/bin/env python
"""MOSES's table 2 for the course's checkpoints, by MOSES's protocol: 30 000 generated molecules against the whole
test split (176 074 molecules), novelty against the whole training split (1 584 663).

    python benchmarks/moses_table.py            # notebook 06's SMILES LSTM, then notebook 07's chemical VAE
    python benchmarks/moses_table.py 07         # one of them
    python benchmarks/moses_table.py 06 --threads 2 --reuse    # reuse the samples drawn by an earlier run

Sampling, as the notebooks sample (the code is theirs, from ``utils.lessons``):

* 06 (``smiles_lstm``): ``sample(net, vocab, 1000)`` at temperature 1, 30 times, after ``torch.manual_seed(1)``:
  notebook 06's section 6 draws the first 10 of these chunks (its 10 000 samples) the same way.
* 07 (``chem_vae``): ``z ~ N(0, I)`` (``torch.manual_seed(1)``, then ``torch.randn(30000, latent_dim)``), each
  read by ``decode_beam`` with a beam of width 5: how Going further 3 reads its prior samples and how the
  checkpoint's card measured its validity (benchmarks/train_checkpoints.py, ``chem_vae_figures``).

Then ``utils.moses.moses_metrics(samples)``: valid, unique@10k, FCD/Test, SNN/Test, Frag/Test, Scaf/Test, IntDiv,
novelty. Each figure is written with MOSES's own value as its anchor (CharRNN for 06, VAE for 07), so RESULTS.md's
ratio column sets the course's row beside MOSES's; FCD/Test is the one column where lower is better.

Writes benchmarks/results/06_moses.json / 07_moses.json in the format of benchmarks/run.py (rebuild the table with
``python benchmarks/run.py --table``): wall time and peak memory of the whole run, and, as figures, the time and
peak resident memory of the sampling and of ``moses_metrics`` alone. The samples are kept in the course cache
(``data/cache/moses/samples_<checkpoint>_<n>.txt``, with the checkpoint's sha256) for ``--reuse``.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]   # the course, and the scripts beside this one

import torch  # noqa: E402

from utils import checkpoints, chem, data, moses  # noqa: E402

SOURCE = "MOSES (Polykovskiy et al. 2020), table 2"
MODELS = {  # notebook prefix: (results name, checkpoint, MOSES's row it is compared with)
    "06": ("06_moses", "smiles_lstm", "CharRNN"),
    "07": ("07_moses", "chem_vae", "VAE"),
}


def sample_smiles_lstm(n: int) -> list[str]:
    """Notebook 06's sampling: the checkpoint's SmilesLSTM at temperature 1, chunks of 1000, torch seed 1."""
    from utils.lessons.smiles_rnn import SmilesLSTM, sample

    state = checkpoints.load("smiles_lstm")
    vocab = chem.Vocab(state["tokens"])
    net = checkpoints.load_into(SmilesLSTM(len(vocab), **state["config"]), "smiles_lstm", state)
    torch.manual_seed(1)
    out = []
    for _ in range(n // 1000):
        out += sample(net, vocab, 1000)
    if n % 1000:
        out += sample(net, vocab, n % 1000)
    return out


def sample_chem_vae(n: int) -> list[str]:
    """Notebook 07's prior samples: z ~ N(0, I) (torch seed 1), read by decode_beam with a beam of width 5."""
    from train_checkpoints import chem_vae_model   # the checkpoint's network, built where it is trained

    from utils.lessons.vae import decode_beam

    state = checkpoints.load("chem_vae")
    vocab = chem.Vocab(state["tokens"])
    net = checkpoints.load_into(chem_vae_model(vocab), "chem_vae", state)
    torch.manual_seed(1)
    z = torch.randn(n, state["config"]["latent_dim"])
    return decode_beam(net["decoder"], vocab, z, width=5)


SAMPLERS = {"smiles_lstm": sample_smiles_lstm, "chem_vae": sample_chem_vae}


class PeakRSS:
    """The peak resident memory (MB) of this process while the ``with`` block runs (read from /proc every 50 ms;
    None where /proc is missing)."""

    def __enter__(self):
        self.peak, self._stop = self._rss(), threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        rss = self._rss()
        self.peak = None if self.peak is None or rss is None else max(self.peak, rss)

    def _watch(self):
        while not self._stop.wait(0.05):
            rss = self._rss()
            if rss is not None and self.peak is not None:
                self.peak = max(self.peak, rss)

    @staticmethod
    def _rss():
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (OSError, ValueError):
            return None


def samples_for(checkpoint: str, n: int, reuse: bool) -> tuple[list[str], float | None, float | None]:
    """(samples, seconds, peak MB) of drawing them; read back from the cache with ``reuse`` when the checkpoint's
    sha256 is the same (seconds and peak then None)."""
    sha = checkpoints.manifest()[checkpoint]["sha256"]
    cached = data.cache_dir() / "moses" / f"samples_{checkpoint}_{n}.txt"
    if reuse and cached.is_file():
        head, *samples = cached.read_text().split("\n")
        if head == f"# {checkpoint} {sha}" and len(samples) == n:
            print(f"  {n} samples read back from {cached}", flush=True)
            return samples, None, None
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        samples = SAMPLERS[checkpoint](n)
        seconds = time.perf_counter() - t0
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_text("\n".join([f"# {checkpoint} {sha}", *samples]))
    return samples, seconds, mem.peak


def run_one(prefix: str, n: int, reuse: bool, threads: int | None, out_dir: Path) -> dict:
    name, checkpoint, reference = MODELS[prefix]
    print(f"{name}: {n} samples of the checkpoint {checkpoint!r}", flush=True)
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    samples, sample_s, sample_mb = samples_for(checkpoint, n, reuse)
    if sample_s is not None:
        print(f"  drawn in {sample_s:.0f} s", flush=True)
    with PeakRSS() as mem:
        t1 = time.perf_counter()
        row = moses.moses_metrics(samples)
        metrics_s = time.perf_counter() - t1
    print(f"  moses_metrics in {metrics_s:.0f} s, peak resident memory {mem.peak:.0f} MB", flush=True)
    anchor = moses.MOSES_TABLE2[reference]
    figures = {m: {"value": round(row[m], 4), "anchor": anchor[m], "source": SOURCE} for m in moses.METRICS}
    figures.update({
        "n_samples": {"value": row["n_samples"], "source": "MOSES's protocol: 30 000"},
        "n_valid": {"value": row["n_valid"]},
        "sample_seconds": {"value": None if sample_s is None else round(sample_s, 1), "unit": "s"},
        "sample_peak_mem_mb": {"value": None if sample_mb is None else round(sample_mb), "unit": "MB"},
        "metrics_seconds": {"value": round(metrics_s, 1), "unit": "s"},
        "metrics_peak_mem_mb": {"value": round(mem.peak), "unit": "MB"},
    })
    wins = moses.wins_and_losses(row)
    result = {
        "notebook": name, "mode": "full", "wall_s": round(time.perf_counter() - t0, 1), "load_before": round(load_before, 2),
        "peak_mem_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), "error": None,
        "figures": figures, "machine": _machine(threads), "date": dt.date.today().isoformat(),
        "checkpoint": {"name": checkpoint, "sha256": checkpoints.manifest()[checkpoint]["sha256"]},
        "compared_with": reference, "row": {m: row[m] for m in moses.METRICS},
        "wins_and_losses": wins,
    }
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    moses.print_table(row, f"{checkpoint} ({n})")
    print(f"wrote {path}", flush=True)
    return result


def _machine(threads) -> str:
    from run import machine

    return machine() + f", torch threads {threads or torch.get_num_threads()}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("prefixes", nargs="*", help="06 and/or 07 (default: both)")
    ap.add_argument("--n", type=int, default=moses.MOSES_N_SAMPLES, help="samples per model (MOSES: 30000)")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    ap.add_argument("--reuse", action="store_true", help="reuse the cached samples of the same checkpoint")
    ap.add_argument("--out", type=Path, default=HERE / "results", help="folder of the JSON files")
    args = ap.parse_args(argv)
    unknown = [p for p in args.prefixes if p not in MODELS]
    if unknown:
        ap.error(f"unknown notebook {unknown}: choose from {list(MODELS)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    for prefix in args.prefixes or list(MODELS):
        run_one(prefix, args.n, args.reuse, args.threads, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
