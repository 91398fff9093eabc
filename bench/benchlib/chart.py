"""The chart (latest.png): median slowdown against sampling rate, one line
per profiler setting, one panel per workload, drawn by gnuplot."""
import os
import subprocess
import tempfile

from .profilers import BY_KEY as SETTINGS
from .workloads import BY_KEY as WORKLOADS


def _terminal():
    r = subprocess.run(["gnuplot", "-e", "set terminal"], capture_output=True, text=True)
    return "pngcairo" if "pngcairo" in r.stdout + r.stderr else "png"


def plot(data, summary, path):
    """Writes the PNG to path (atomically). Raises if gnuplot fails."""
    cells = summary["cells"]
    ws = data["workloads"]
    cols = min(3, len(ws))
    rows = (len(ws) + cols - 1) // cols
    with tempfile.TemporaryDirectory(prefix="gp-chart-") as tmp:
        script = ["set terminal %s size %d,%d font ',9'" % (_terminal(), 460 * cols, 340 * rows),
                  "set output '%s.tmp'" % path,
                  "set multiplot layout %d,%d title 'Target slowdown vs sampling rate "
                  "(median over %d repetition(s); 0%% = no profiler)'" % (rows, cols, data["reps"]),
                  "set logscale x", "set xtics (%s)" % ", ".join(str(r) for r in data["rates"]),
                  "set xrange [%g:%g]" % (min(data["rates"]) / 1.5, max(data["rates"]) * 1.5),
                  "set xlabel 'Hz'", "set ylabel 'slowdown %'", "set grid",
                  "set key top left font ',7' noenhanced", "set termoption noenhanced"]
        for i, w in enumerate(ws):
            plots = []
            for lt, s in enumerate(data["profilers"], 1):
                pts = [(rate, cells[(w, s, rate)]["slowdown"][0]) for rate in data["rates"]
                       if (w, s, rate) in cells and cells[(w, s, rate)].get("slowdown")]
                if not pts:
                    continue
                f = os.path.join(tmp, "%s-%s.dat" % (w, s))
                with open(f, "w") as fh:
                    for rate, v in pts:
                        fh.write("%d %.5f\n" % (rate, 100 * (v - 1)))
                plots.append("'%s' using 1:2 with linespoints lt %d title '%s'"
                             % (f, lt, SETTINGS[s].label))
            script.append("set title '%d: %s'" % (WORKLOADS[w].number, WORKLOADS[w].title))
            spare = rows * cols > len(ws)
            script.append("unset key" if i or spare else "set key top left font ',7' noenhanced")
            script.append("plot " + ", ".join(plots) if plots else "plot 0 notitle")
        if spare:
            # The legend in the empty panel: every setting's line, drawn out of range.
            script += ["unset title", "unset xlabel", "unset ylabel", "unset border",
                       "unset tics", "unset grid", "unset logscale x", "set xrange [0:1]",
                       "set yrange [0:1]", "set key center center font ',9' noenhanced",
                       "plot " + ", ".join("2 with linespoints lt %d title '%s'" % (lt, SETTINGS[s].label)
                                           for lt, s in enumerate(data["profilers"], 1))]
        script.append("unset multiplot")
        r = subprocess.run(["gnuplot"], input="\n".join(script) + "\n", capture_output=True,
                           text=True)
        if r.returncode:
            raise RuntimeError("gnuplot failed: %s" % r.stderr.strip())
    os.replace(path + ".tmp", path)
