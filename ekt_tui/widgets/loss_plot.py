"""The live loss curve of a training run (textual-plotext), with dev pass@1 marks.

A PlotextPlot repaints only when refreshed itself, so `show()` redraws and calls `refresh()`.
Events come from the store (`train_run_events`); a resumed run may log a step twice, the last
value wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual_plotext import PlotextPlot


class LossPlot(PlotextPlot):
    DEFAULT_CSS = "LossPlot { height: 1fr; min-height: 8; }"

    def show(self, events: Sequence[dict[str, Any]], title: str = "") -> None:
        loss: dict[int, float] = {}
        dev: dict[int, float] = {}
        for e in events:
            if e["kind"] == "log" and e.get("loss") is not None and e.get("step") is not None:
                loss[int(e["step"])] = float(e["loss"])
            elif e["kind"] == "eval" and e.get("step") is not None:
                dev[int(e["step"])] = float((e.get("data") or {}).get("dev_pass_at_1", 0.0))
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title or "training loss (completion tokens)")
        plt.xlabel("step")
        if loss:
            steps = sorted(loss)
            plt.plot(steps, [loss[s] for s in steps], marker="braille", label="loss")
        if dev:
            steps = sorted(dev)
            plt.scatter(steps, [100 * dev[s] for s in steps], marker="o", label="dev pass@1 %",
                        yside="right")  # fmt: skip
        self.refresh()
