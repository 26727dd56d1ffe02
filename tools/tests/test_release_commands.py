"""Every shipped model names the tool that reproduces it, and tools/README.md lists it."""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = json.loads((ROOT / "sksep" / "models" / "registry.json").read_text())


def test_each_registry_entry_names_existing_scripts_and_a_tool():
    for name, entry in REGISTRY.items():
        scripts = re.findall(r"\b((?:benchmarks|tools)/[\w/]+\.py)", entry["training"])
        assert any(script.startswith("tools/") for script in scripts), name
        for script in scripts:
            assert (ROOT / script).is_file(), (name, script)


def test_tools_readme_gives_the_command_of_every_shipped_model():
    readme = (ROOT / "tools" / "README.md").read_text()
    rows = {line.split("|")[1].strip(" `"): line for line in readme.splitlines()
            if line.startswith("| `") and "python " in line}
    assert set(REGISTRY) <= set(rows)
    for name, row in rows.items():
        for script in re.findall(r"python ((?:benchmarks|tools)/[\w/]+\.py)", row):
            assert (ROOT / script).is_file(), (name, script)


def test_register_model_keeps_the_other_entries(tool_module, tmp_path):
    release = tool_module("_release")
    registry = tmp_path / "models" / "registry.json"
    release.register_model("a", {"file": "a.sksep"}, registry)
    release.register_model("b", {"file": "b.sksep"}, registry)
    release.register_model("a", {"file": "a2.sksep"}, registry)
    assert json.loads(registry.read_text()) == {"a": {"file": "a2.sksep"},
                                                "b": {"file": "b.sksep"}}
    assert release.MODELS == ROOT / "sksep" / "models"
