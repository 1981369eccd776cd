"""`python -m bench [area ...]`: discover `bench/*_bench.py` modules and run their `main()`.

An area is the module's name without `_bench`, with `-` for `_` (`teacher-local` runs
`teacher_local_bench.py`); the underscore spelling is accepted too.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from pathlib import Path

import bench


def areas() -> list[str]:
    return sorted(
        m.name.removesuffix("_bench").replace("_", "-")
        for m in pkgutil.iter_modules([str(Path(bench.__file__).parent)])
        if m.name.endswith("_bench")
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    known = areas()
    if args and args[0] in {"-h", "--help", "--list"}:
        print("usage: python -m bench [area ...]\nareas: " + ", ".join(known))
        return 0
    chosen = [a.replace("_", "-") for a in args] or known
    unknown = [a for a in chosen if a not in known]
    if unknown:
        print(
            f"bench: unknown area {', '.join(unknown)} (known: {', '.join(known)})", file=sys.stderr
        )
        return 2
    for area in chosen:
        print(f"== {area} ==", flush=True)
        started = time.perf_counter()
        importlib.import_module(f"bench.{area.replace('-', '_')}_bench").main()
        print(f"== {area}: {time.perf_counter() - started:.1f} s ==\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
