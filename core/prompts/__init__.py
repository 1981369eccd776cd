"""Few-shot prompts: immutable versions in the store, `{{field}}` rendering, a leakage guard,
and the completion contract (completion text → program) that every generator follows."""

from core.prompts.completion import completion_to_code, cut_at_stop
from core.prompts.leakage import (
    Leak,
    exemplar_questions,
    find_leaks,
    find_leaks_for_kinds,
    find_leaks_in_store,
)
from core.prompts.template import (
    FIELDS,
    RenderedPrompt,
    kind_for_prompt_name,
    parse_template,
    prompt_name_for_kind,
    render,
    render_zero_shot,
)
from core.prompts.versions import (
    BUILTIN,
    PromptVersion,
    current_prompt,
    default_template,
    get_prompt,
    list_prompts,
    read_template_file,
    resolve_prompt,
    save_prompt,
    seed_default_prompts,
)

__all__ = [
    "BUILTIN",
    "FIELDS",
    "Leak",
    "PromptVersion",
    "RenderedPrompt",
    "completion_to_code",
    "current_prompt",
    "cut_at_stop",
    "default_template",
    "exemplar_questions",
    "find_leaks",
    "find_leaks_for_kinds",
    "find_leaks_in_store",
    "get_prompt",
    "kind_for_prompt_name",
    "list_prompts",
    "parse_template",
    "prompt_name_for_kind",
    "read_template_file",
    "render",
    "render_zero_shot",
    "resolve_prompt",
    "save_prompt",
    "seed_default_prompts",
]
