"""Regenerate README.md's configuration reference from core.config's field descriptions.

Run `python scripts/readme_config.py` after adding or changing a config field; it rewrites only
the text between `<!-- section: config -->` and the next `## ` heading.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.config import ProjectConfig

README = Path(__file__).resolve().parent.parent / "README.md"
MARKER = "<!-- section: config -->"


def _default(value: object) -> str:
    if value is None:
        return "unset"
    return f"`{json.dumps(value)}`"


def reference() -> str:
    config = ProjectConfig()
    out = [
        "`ekt init` writes every field below, commented, with its default; any field may be",
        "left out. A bad value fails with one line naming the file, the field, the value and",
        'what was expected (`ekt.toml: [sampling] temperature = "hot": input should be a',
        "valid number`). Secrets are never stored: `api_key_env` names the environment",
        "variable that holds the key.",
        "",
    ]
    for section_name in ProjectConfig.model_fields:
        section = getattr(config, section_name)
        out += [f"**[{section_name}]**", "", "| field | default | meaning |", "|---|---|---|"]
        for name, field in type(section).model_fields.items():
            desc = (field.description or "").replace("|", "\\|")
            out.append(f"| `{name}` | {_default(getattr(section, name))} | {desc} |")
        out.append("")
    return "\n".join(out)


def main() -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index(MARKER) + len(MARKER)
    end = text.find("\n## ", start)
    end = len(text) if end == -1 else end + 1
    README.write_text(text[:start] + "\n\n" + reference() + "\n" + text[end:], encoding="utf-8")
    print(f"updated {README} config reference")


if __name__ == "__main__":
    main()
