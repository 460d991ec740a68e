"""LiteLLM loads offline: its bundled price map, never one fetched from the internet."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_litellm_loads_with_its_bundled_price_map_without_being_told():
    env = {k: v for k, v in os.environ.items() if k != "LITELLM_LOCAL_MODEL_COST_MAP"}
    code = (
        "import os\n"
        "from chat_app.services.litellm_loader import load_litellm\n"
        "litellm = load_litellm()\n"
        "print(os.environ['LITELLM_LOCAL_MODEL_COST_MAP'], 'openai/gpt-4o' in litellm.model_cost or 'gpt-4o' in litellm.model_cost)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]
    assert "cost map" not in done.stderr.lower()  # a fetch attempt logs "model cost map fetch ..."
