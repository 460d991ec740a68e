"""LiteLLM, imported in one place, so it never reaches the internet when it loads.

Unless LITELLM_LOCAL_MODEL_COST_MAP is set before `import litellm`, LiteLLM fetches its model
price map from GitHub at import: start-up would wait on the network (retrying, then falling back
to its bundled copy), and the prices and vision flags the catalog takes from the map would change
under the pinned version. So the variable is set here, just before the import, in the
environment LiteLLM reads it from; an operator who sets it themselves keeps their choice.
"""

from __future__ import annotations

import os
from types import ModuleType


def load_litellm() -> ModuleType:
    """The litellm module, imported on first use (it costs about two seconds) with its bundled price map."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    # Its token counter would fetch some models' tokenizers from Hugging Face at first use: counts
    # use tiktoken's encodings, bundled with LiteLLM, and the prompt's margin covers the difference.
    litellm.disable_hf_tokenizer_download = True
    return litellm
