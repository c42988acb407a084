"""Draws bench/results/side-by-side.png from side-by-side.json (written by bench/side-by-side.ts).

Runs with the bench venv's matplotlib (hack/bench-peers.sh installs it next to LiteLLM), which
renders offline with its Agg backend; nothing is fetched at draw time.
Usage: chart.py RESULTS.json OUT.png
"""

import json
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def median_added(target, direct, pick):
    values = []
    for mine, base in zip(target["rounds"], direct["rounds"]):
        a, b = pick(mine), pick(base)
        if a is not None and b is not None:
            values.append(a - b)
    return statistics.median(values) if values else None


def rate_p99(rate):
    return lambda r: (r["rates"].get(str(rate)) or {}).get("p99")


def ttft_p50(r):
    return None if r["streams"]["errors"] else r["streams"]["firstByte"]["p50"]


def main(source, out):
    with open(source) as f:
        results = json.load(f)
    targets = results["targets"]
    direct = next(t for t in targets if t["path"] == "direct")
    rows = [t for t in targets if t["path"] != "direct"]
    names = [t["name"] for t in rows]
    # Chaperone blue, peers grey, the A/A control (the harness's noise) pale.
    colours = ["#2b6cb0" if t["isChaperone"] else "#e2e8f0" if t["path"] == "control" else "#a0aec0" for t in rows]
    rates = results["config"]["rates"]

    fig, axes = plt.subplots(2, 2, figsize=(15, 9))
    panels = [
        (axes[0][0], f"added p99 at {rates[0]} rps (ms, log)", [median_added(t, direct, rate_p99(rates[0])) for t in rows], True),
        (axes[0][1], f"highest rate with p99 < {results['config']['p99BudgetMs']} ms, one core (rps)", [t["maxRate"] for t in rows], False),
        (axes[1][0], "added time to first token, p50 (ms, log)", [median_added(t, direct, ttft_p50) for t in rows], True),
        (axes[1][1], "RSS under load (MB)", [t["rssLoadMb"] for t in rows], False),
    ]
    for ax, title, values, log in panels:
        shown = [v if v is not None and v == v and v > 0 else 0 for v in values]
        ax.barh(names, shown, color=colours)
        ax.invert_yaxis()
        ax.set_title(title, fontsize=10)
        if log and any(v > 0 for v in shown):
            ax.set_xscale("log")
        for y, v in enumerate(values):
            # A negative added time is noise around zero: drawn as no bar, labelled with its value.
            label = "n/a" if v is None or v != v else (f"{v:.3g}" if isinstance(v, float) else str(v))
            positive = [x for x in shown if x > 0]
            floor = min(positive) if log and positive else 0  # a log axis has no 0 to write at
            ax.text(shown[y] if shown[y] > 0 else floor, y, f" {label}", va="center", fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
    fig.suptitle(
        f"Chaperone side by side — {results['date'][:10]}, {results['machine']['cpus']} CPUs, "
        f"medians over {len(direct['rounds'])} rounds (lower is better except throughput)",
        fontsize=11,
    )
    fig.subplots_adjust(left=0.17, right=0.95, wspace=0.55, hspace=0.3)
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
