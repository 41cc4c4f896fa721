"""`qa serve --auth USER:PASSWORD`: without the login neither the page's API nor the config answers."""

from __future__ import annotations

import shutil
import subprocess
import sys
import urllib.error
import urllib.request

import pytest
from gradio_client import Client
from gradio_client.exceptions import AuthenticationError

from server import ROOT, qa_serve


@pytest.fixture(scope="module")
def guarded(seed_settings, tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("guarded")
    shutil.copytree(seed_settings.index_dir, work / ".qa")
    with qa_serve(work / ".qa", work / "serve.log", extra_args=("--auth", "editor:s3cret")) as url:
        yield url


def test_config_needs_login(guarded):
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(guarded + "config")
    assert refused.value.code in (401, 403)


def test_client_without_login_is_refused_and_with_login_answers(guarded):
    with pytest.raises(AuthenticationError, match="credentials were not provided"):
        Client(guarded, verbose=False)
    with pytest.raises(ValueError, match="Could not login to"):  # Gradio answers 400 here, not 401
        Client(guarded, auth=("editor", "wrong"), verbose=False)
    client = Client(guarded, auth=("editor", "s3cret"), verbose=False)
    result = client.submit("what did Lavrov discuss with Kuwait?", 3, [], api_name="/answer").result(timeout=120)
    assert result["passages"]


def test_bad_auth_value_is_one_line_and_exit_2(seed_settings):
    done = subprocess.run(
        [sys.executable, "-m", "qa.cli", "serve", "--auth", "nopassword",
         "--index-dir", str(seed_settings.index_dir)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == ["error: --auth takes USER:PASSWORD, e.g. --auth editor:s3cret"]
