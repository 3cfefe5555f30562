"""Draws bench/results.svg from bench/results.json and bench/threads.svg from bench/threads.json.
Run it through bench/plot, which finds a python3 with matplotlib (see there).

Why matplotlib rather than `plotters` in Rust: the benchmark scripts already need python3 for
their tables, so matplotlib adds one optional package to the machine and nothing to the Cargo
workspace (no crate to compile on every `cargo test --workspace`, no new dependency to vet); and it
draws what these charts need out of the box: log axes with labelled major and minor ticks,
legends, grouped and floating bars, and SVG with real text.

The SVGs are reproducible: no date in them and fixed element ids, so a redraw from the same
figures changes nothing in git.
"""
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

plt.rcParams.update({
    "svg.fonttype": "none",  # text stays text (searchable, small files)
    "svg.hashsalt": "lockstep-bench",  # the same ids on every redraw
    "font.family": "sans-serif",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
})

# A fixed colour and name per engine, whatever the columns of a run: lockstep's engines in
# blues, C in grey, the Lua family in greens, the Python family in oranges.
ENGINES = {
    "optimized": ("lockstep, JIT (optimized engine)", "#1f4e99"),
    "tier2": ("lockstep, --jit=opt (tier 2, experimental)", "#08306b"),
    "interpreter": ("lockstep, --jit=off (interpreter)", "#6fa8dc"),
    "reference": ("lockstep, reference engine", "#a9c4e0"),
    "baseline": ("lockstep, baseline build", "#7b3294"),
    "c": ("C (gcc -O2)", "#555555"),
    "luajit": ("LuaJIT", "#1b7837"),
    "luajit-joff": ("LuaJIT -joff (its interpreter)", "#7fbf7b"),
    "lua5.4": ("Lua 5.4", "#c2a5cf"),
    "pypy3": ("PyPy 3", "#e66101"),
    "cpython": ("CPython 3", "#fdb863"),
}
OTHER = ["#8c564b", "#e377c2", "#17becf", "#bcbd22"]


def engine_style(e, i):
    return ENGINES.get(e, (e, OTHER[i % len(OTHER)]))


def seconds(v, _pos=None):
    if v >= 1:
        return f"{v:g} s"
    if v >= 0.001:
        return f"{v * 1000:g} ms"
    return f"{v * 1e6:g} µs"


def times(v, _pos=None):
    return f"{v:g}x"


def log_axis(ax, fmt, subs_labelled=(1.0,)):
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=subs_labelled))
    ax.yaxis.set_major_formatter(FuncFormatter(fmt))
    ax.yaxis.set_minor_locator(LogLocator(base=10, subs=[s for s in range(1, 10) if s not in subs_labelled]))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.grid(axis="y", which="major", color="#cccccc", linewidth=0.8)
    ax.grid(axis="y", which="minor", color="#eeeeee", linewidth=0.5)
    ax.set_axisbelow(True)


def decade_limits(values, pad_low=1.0, pad_high=1.0):
    lo, hi = min(values), max(values)
    return 10 ** math.floor(math.log10(lo * pad_low)), 10 ** math.ceil(math.log10(hi * pad_high))


def save(fig, name):
    svg = os.path.join(HERE, name + ".svg")
    fig.savefig(svg, format="svg", metadata={"Date": None}, bbox_inches="tight")
    written = [f"bench/{name}.svg"]
    png_dir = os.environ.get("PNG")
    if png_dir:
        png = os.path.join(png_dir, name + ".png")
        fig.savefig(png, format="png", dpi=110, bbox_inches="tight")
        written.append(png)
    plt.close(fig)
    print("bench/plot: wrote " + " and ".join(written), file=sys.stderr)


def results():
    doc = json.load(open(os.path.join(HERE, "results.json")))
    benches = doc["benchmarks"]
    engines = [e for e in doc["engines"] if any(b["seconds"].get(e) for b in benches)]
    n = len(engines)
    width = 0.84 / n
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(max(10, 1.45 * len(benches) + 2.5), 9.5), sharex=True,
        gridspec_kw={"height_ratios": [1.15, 1], "hspace": 0.08})
    labels = [f"{b['name']}\n{b['args']}" for b in benches]
    all_t, all_r = [], []
    wrong = False
    for i, e in enumerate(engines):
        name, colour = engine_style(e, i)
        xs, ts, rs, rxs, bad = [], [], [], [], []
        for j, b in enumerate(benches):
            t = b["seconds"].get(e)
            if not t:
                continue
            x = j - 0.42 + width * (i + 0.5)
            xs.append(x)
            ts.append(t)
            bad.append(not b.get("output_ok", {}).get(e, True))
            base = b["seconds"].get("optimized")
            if base:
                rxs.append(x)
                rs.append(t / base)
        all_t += ts
        all_r += rs
        hatch = ["////" if w else "" for w in bad]
        wrong |= any(bad)
        top.bar(xs, ts, width, color=colour, label=name, hatch=hatch, edgecolor="white", linewidth=0.3)
        # Ratios as bars from 1: below 1 (faster than lockstep's JIT) they hang down.
        bottom.bar(rxs, [r - 1 for r in rs], width, bottom=1, color=colour, edgecolor="white", linewidth=0.3)
        for x, r in zip(rxs, rs):
            if e == "optimized":
                continue
            txt = f"{r:.2f}" if r < 10 else f"{r:.0f}"
            bottom.text(x, r * (1.08 if r >= 1 else 1 / 1.08), txt, rotation=90, fontsize=6.5,
                        ha="center", va="bottom" if r >= 1 else "top", color="#333333")
    # Cells that were not run (a peer without that program, or skipped): say so in place.
    for j, b in enumerate(benches):
        for i, e in enumerate(engines):
            if not b["seconds"].get(e):
                x = j - 0.42 + width * (i + 0.5)
                top.text(x, 0.01, "n/a", rotation=90, fontsize=7, ha="center", va="bottom", color="#555555",
                         transform=top.get_xaxis_transform())
    log_axis(top, seconds)
    top.set_ylim(*decade_limits(all_t, 0.7, 1.0))
    top.set_ylabel("median wall time, whole process (log scale)")
    log_axis(bottom, times, subs_labelled=(1.0, 3.0))
    if all_r:
        bottom.set_ylim(min(all_r) / 1.9, max(all_r) * 1.9)
    bottom.axhline(1, color="black", linewidth=0.8)
    bottom.set_ylabel("time / lockstep JIT's (log scale)\nabove 1: slower than lockstep's JIT")
    bottom.set_xticks(range(len(benches)), labels)
    bottom.set_xlim(-0.55, len(benches) - 0.45)
    for j in range(1, len(benches)):
        for ax in (top, bottom):
            ax.axvline(j - 0.5, color="#dddddd", linewidth=0.8)
    handles, names = top.get_legend_handles_labels()
    if wrong:
        handles.append(Patch(facecolor="white", edgecolor="black", hatch="////"))
        names.append("hatched: wrong output")
    load = " / ".join(doc.get("load", []))
    top.legend(handles, names, loc="lower center", bbox_to_anchor=(0.5, 1.01), ncol=min(5, len(names)),
               frameon=False, fontsize=9, title_fontsize=11,
               title=f"lockstep against its other engines and peer runtimes (bench/run; load at start / end: {load})")
    save(fig, "results")


def threads():
    doc = json.load(open(os.path.join(HERE, "threads.json")))
    th, si = doc["threaded"], doc["single"]
    if not th and not si:
        print("bench/plot: skipping bench/threads.svg: bench/threads.json has no figures", file=sys.stderr)
        return
    # The threaded benchmarks on top (speedup, aborts), the single-threaded ones below: each
    # row only when the run (ONLY=...) had such benchmarks.
    fig = plt.figure(figsize=(13, 4.75 * (bool(th) + bool(si))))
    grid = fig.add_gridspec(bool(th) + bool(si), 2, hspace=0.32, wspace=0.22)
    if th:
        threaded_panels(fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1]), th)
    if si:
        single_panel(fig.add_subplot(grid[-1, :]), si)
    meta = [f"lockstep {doc.get('lockstep', '?')}", doc.get("date", ""), f"{doc.get('cores', '?')} cores",
            "load at start / end: " + " / ".join(doc.get("load", []))]
    fig.suptitle("Threads and the STM (bench/run-threads" + (", SMALL=1" if doc.get("small") else "") + "; "
                 + ", ".join(m for m in meta if m) + ")", fontsize=11, y=0.96 if th and si else 1.02)
    save(fig, "threads")


def threaded_panels(speed_ax, abort_ax, th):
    progs = list(dict.fromkeys((r["name"], r["args"]) for r in th))
    ts = sorted({r["threads"] for r in th})
    palette = ["#1f4e99", "#e66101", "#1b7837", "#7b3294", "#8c564b", "#e377c2"]
    colour = {p: palette[i % len(palette)] for i, p in enumerate(progs)}

    # Speedup against T, with the ideal line.
    speed_ax.plot(ts, ts, "--", color="#888888", linewidth=1.2, label="ideal: speedup = T")
    top_speed = max(ts)
    ends = []  # [label y, value, x, colour] of each line's last point
    for p in progs:
        rows = {r["threads"]: r for r in th if (r["name"], r["args"]) == p}
        base = rows.get(1, {}).get("wall")
        pts = [(t, base / rows[t]["wall"]) for t in ts if t in rows and base and rows[t]["wall"]]
        if not pts:
            continue
        x, y = zip(*pts)
        top_speed = max(top_speed, *y)
        speed_ax.plot(x, y, "o-", color=colour[p], linewidth=2, markersize=6, label=f"{p[0]} {p[1]}")
        ends.append([y[-1], y[-1], x[-1], colour[p]])
    # The end values, moved apart where lines end close together.
    gap = 0.045 * top_speed * 1.1
    ends.sort()
    for a, b in zip(ends, ends[1:]):
        b[0] = max(b[0], a[0] + gap)
    for label_y, value, x, c in ends:
        speed_ax.annotate(f"{value:.2f}x", (x, value), xytext=(x + 0.07, label_y), va="center", fontsize=9,
                          color=c)
    speed_ax.set_xticks(ts, [f"T={t}" for t in ts])
    speed_ax.set_xlim(min(ts) - 0.15, max(ts) + 0.45)
    speed_ax.set_ylim(0, top_speed * 1.1)
    speed_ax.set_xlabel("guest threads")
    speed_ax.set_ylabel("speedup: wall time at T=1 / at T")
    speed_ax.grid(axis="y", color="#dddddd")
    speed_ax.set_axisbelow(True)
    speed_ax.legend(loc="upper left", fontsize=8.5, frameon=False)
    speed_ax.set_title("parallel speedup (optimized engine, JIT on)", fontsize=10.5)

    # Abort rate per benchmark and T.
    width = 0.8 / len(ts)
    shade = {t: 0.45 + 0.55 * k / max(1, len(ts) - 1) for k, t in enumerate(ts)}
    rates = []
    for j, p in enumerate(progs):
        for k, t in enumerate(ts):
            r = next((r for r in th if (r["name"], r["args"]) == p and r["threads"] == t), None)
            x = j - 0.4 + width * (k + 0.5)
            if not r or r.get("committed") is None:
                abort_ax.text(x, 0, "n/a", ha="center", va="bottom", fontsize=8, color="#888888")
                continue
            attempts = r["committed"] + r["aborted"]
            rate = 100 * r["aborted"] / attempts if attempts else 0.0
            rates.append(rate)
            abort_ax.bar(x, rate, width * 0.92, color=colour[p], alpha=shade[t])
            abort_ax.text(x, rate, f"{rate:.1f}%", ha="center", va="bottom", fontsize=8)
            abort_ax.text(x, -0.02, f"T={t}", ha="center", va="top", fontsize=7.5,
                          transform=abort_ax.get_xaxis_transform())
    abort_ax.set_xticks(range(len(progs)), [p[0] for p in progs])
    abort_ax.set_xlim(-0.6, max(len(progs), 3) - 0.4)
    abort_ax.tick_params(axis="x", length=0, pad=14)
    abort_ax.set_ylim(0, max(2.0, max(rates, default=0) * 1.3))
    abort_ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}%"))
    abort_ax.set_ylabel("aborted / (committed + aborted)")
    abort_ax.grid(axis="y", color="#dddddd")
    abort_ax.set_axisbelow(True)
    abort_ax.set_title("STM abort rate (a separate --stm-report run)", fontsize=10.5)


def single_panel(stm_ax, si):
    """One thread: what the STM costs against --stm=off."""
    series = [("stm_on", "run (STM on; a thread alone runs without barriers)", "#1f4e99"),
              ("barriers", "run --stm=barriers (barriers forced on)", "#e66101")]
    width = 0.8 / len(series)
    ratios = []
    for k, (key, name, c) in enumerate(series):
        xs, rs = [], []
        for j, r in enumerate(si):
            if r.get(key) and r.get("stm_off"):
                xs.append(j - 0.4 + width * (k + 0.5))
                rs.append(r[key] / r["stm_off"])
        ratios += rs
        stm_ax.bar(xs, [v - 1 for v in rs], width * 0.92, bottom=1, color=c, label=name)
        for x, v in zip(xs, rs):
            stm_ax.text(x, v * (1.04 if v >= 1 else 1 / 1.04), f"{v:.2f}x", ha="center",
                        va="bottom" if v >= 1 else "top", fontsize=8)
    log_axis(stm_ax, times, subs_labelled=(1.0, 2.0, 5.0))
    if ratios:
        stm_ax.set_ylim(min(0.8, min(ratios) / 1.15), max(1.5, max(ratios) * 1.6))
    stm_ax.axhline(1, color="black", linewidth=0.8)
    stm_ax.set_xticks(range(len(si)), [f"{r['name']} {r['args']}" for r in si])
    stm_ax.set_xlim(-0.6, max(len(si), 4) - 0.4)
    stm_ax.set_ylabel("time / --stm=off's (log scale)")
    stm_ax.legend(loc="upper left", fontsize=8.5, frameon=False)
    stm_ax.set_title("one thread: the STM's cost against --stm=off (fastest of the timed runs)", fontsize=10.5)


def main():
    which = sys.argv[1:] or ["results", "threads"]
    for w in which:
        if w not in ("results", "threads"):
            sys.exit(f"bench/plot: unknown chart {w!r} (results or threads)")
    for w in which:
        if not os.path.exists(os.path.join(HERE, w + ".json")):
            print(f"bench/plot: skipping bench/{w}.svg: no bench/{w}.json (bench/run"
                  + ("-threads" if w == "threads" else "") + " writes it)", file=sys.stderr)
            continue
        {"results": results, "threads": threads}[w]()


if __name__ == "__main__":
    main()
