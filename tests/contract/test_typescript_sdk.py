"""The README's TypeScript story ("Use the API from code"), as it is written there, compiled
with `tsc --strict` beside the client openapi-generator's `typescript-fetch` makes from the
committed spec, then run under Node against the live service: list every page, get with
`as_of`, create with an Idempotency-Key, a 412 on a stale If-Match."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from service.core.vocabularies import Role
from tests.contract.conftest import ROOT, generate
from tests.contract.test_readme_sdk import readme_story, run_story_twice

pytestmark = pytest.mark.postgres_only

TOOLS = ROOT / "openapi" / "typescript"
TSC = TOOLS / "node_modules" / ".bin" / "tsc"


@pytest.fixture(scope="module")
def compiled_story(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not TSC.exists() or shutil.which("node") is None:
        message = "the TypeScript compiler is installed by `make test-postgres` (npm ci)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    out = tmp_path_factory.mktemp("typescript")
    generate("typescript-fetch", out / "client", "--additional-properties=supportsES6=true")
    (out / "story.ts").write_text(readme_story("ts"), encoding="utf-8")
    shutil.copy(TOOLS / "tsconfig.json", out / "tsconfig.json")
    (out / "node_modules").symlink_to(TOOLS / "node_modules")
    result = subprocess.run(
        [str(TSC), "--project", str(out)], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    story = out / "dist" / "story.js"
    assert story.exists()
    return story


def test_the_typescript_config_is_strict() -> None:
    config = (TOOLS / "tsconfig.json").read_text(encoding="utf-8")
    assert '"strict": true' in config and '"noEmitOnError": true' in config


def test_the_readme_typescript_story_runs_against_the_live_service(
    compiled_story: Path, live_server: str, live_keys: dict[Role, str]
) -> None:
    run_story_twice(["node", str(compiled_story)], compiled_story.parent, live_server, live_keys)
