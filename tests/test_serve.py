"""`qa serve` for real: a process on loopback, HTTP, and the Gradio API via gradio_client."""

from __future__ import annotations

import re
import urllib.request
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from server import served  # noqa: F401  (module-scoped `qa serve` over a copy of the seeds)
from ui.serve_process import call_api

KUWAIT = "what did Lavrov discuss with Kuwait?"
KUWAIT_ARTICLE = "002_717a5c15cf0cef70"
#: The first answer waits for the models to load.
FIRST_ANSWER_TIMEOUT = 120


@pytest.fixture(scope="module")
def client(served) -> Client:  # noqa: F811
    return Client(served, verbose=False)


def answer(client: Client, question: str, k: int = 5, previous: list[str] | None = None) -> dict:
    job = client.submit(question, k, previous or [], api_name="/answer")
    return job.result(timeout=FIRST_ANSWER_TIMEOUT)


def test_page_is_served(served):  # noqa: F811
    with urllib.request.urlopen(served) as response:
        page = response.read().decode()
    assert "News QA" in page


def test_api_lists_answer_and_upload_endpoints(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {"/answer", "/add_articles"} <= set(endpoints)


def test_the_api_over_plain_http_answers_as_gradio_client_does(served, client):  # noqa: F811
    """Gradio's HTTP API as curl or a browser calls it (POST the call, read its event
    stream; what bench/stress.py's users do) gives the very answer gradio_client gets,
    and a failure on the server is an error, not a result."""
    with httpx.Client(timeout=FIRST_ANSWER_TIMEOUT) as http:
        assert call_api(http, served, "answer", KUWAIT, 5, []) == answer(client, KUWAIT)
        with pytest.raises(RuntimeError, match="answer failed on the server"):
            call_api(http, served, "answer", KUWAIT, "five", [])
        with pytest.raises(httpx.HTTPStatusError):
            call_api(http, served, "no_such_endpoint", KUWAIT)


def test_answer_cites_the_kuwait_article_with_checkable_quotes(client):
    result = answer(client, KUWAIT)
    assert result["question"] == result["searched"] == KUWAIT
    assert result["abstained"] is False
    assert result["mode"] == "extractive"
    assert result["language"] == "en"
    citations = {c["n"]: c for c in result["citations"]}
    passages = {p["rank"]: p for p in result["passages"]}
    assert KUWAIT_ARTICLE in {c["source"] for c in citations.values()}

    markers = {int(n) for group in re.findall(r"\[(\d+(?:\s*[,،]\s*\d+)*)\]", result["answer"])
               for n in re.split(r"\s*[,،]\s*", group)}
    assert markers, result["answer"]
    assert markers <= set(citations), f"markers {markers} vs citations {set(citations)}"
    assert set(citations) <= set(passages)

    for n, citation in citations.items():
        passage = passages[n]
        assert (citation["source"], citation["start"], citation["end"]) == (
            passage["source"], passage["start"], passage["end"])
        assert citation["quotes"], f"citation [{n}] quotes nothing"
        for start, end in citation["quotes"]:
            assert passage["start"] <= start < end <= passage["end"], (n, start, end)
            quoted = passage["text"][start - passage["start"]:end - passage["start"]]
            assert quoted.strip() and quoted.strip() in result["answer"], (n, quoted)


def test_nonsense_question_abstains_but_still_shows_nearest_passages(client):
    result = answer(client, "What is the recipe for chocolate lava cake?")
    assert result["abstained"] is True
    assert result["citations"] == []
    assert result["passages"], "the nearest passages are still returned to look at"
    assert not re.search(r"\[\d+\]", result["answer"])


def test_follow_up_is_resolved_against_the_previous_question(client):
    result = answer(client, "and with Qatar?", previous=[KUWAIT])
    assert result["question"] == "and with Qatar?"
    assert result["searched"] == "what did Lavrov discuss with Qatar?"
    assert result["notes"], "the rewrite is shown to the reader"


def test_empty_question_is_an_error_not_an_answer(client):
    with pytest.raises(AppError):
        answer(client, "   ")
    assert answer(client, KUWAIT)["abstained"] is False  # the server carries on


def test_empty_question_error_says_why(client):
    with pytest.raises(AppError, match="question is empty"):
        answer(client, "")


def test_upload_api_gives_reasons_for_rejected_files(client, tmp_path: Path):
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4 not an article")
    with pytest.raises(AppError, match="Invalid file type"):
        client.predict([handle_file(str(pdf))], api_name="/add_articles")

    binary = tmp_path / "broken.txt"
    binary.write_bytes(b"abc\0def")
    report, _articles = client.predict([handle_file(str(binary))], api_name="/add_articles")
    assert "Indexed 0 new" in report
    assert "Rejected broken.txt: binary file" in report
