"""Chunking and embedding on Ray actors: `qa index --ray ADDRESS` (issue 17).

What runs where. This process (the driver) plans the run as always, cuts the articles
to embed into batches of BATCH_ARTICLES and writes the index itself, with the same
IndexWriter and in the same publish steps as without Ray (`_steps` in index/builder.py),
each article once and in order. Each actor loads the models once (`load_models`, the
product's one wiring), chunks its batches with `chunker_for` and embeds them with
`embed_articles`, the code the in-process path runs, and sends back `StagedArticle`s.

ADDRESS:
  `local`  a new Ray instance on this machine with one worker per usable core, stopped
           at the end of the run, whether or not a cluster is already running here.
  `auto`   Ray's own rule: the cluster named by RAY_ADDRESS, else the last one started
           with `ray start` on this machine, else a new local instance on every core
           Ray detects (as `local`, stopped at the end).
  other    that cluster: `HOST:PORT` of its head node (`ray start --head`) or
           `ray://HOST:10001` (Ray Client). Every node needs this package installed
           (`pip install -e '.[cluster]'`) and the same QA_* settings; a node whose models
           would make other vectors (another backend, another int8 recipe) is refused.

One actor per CPU of the cluster, each asking Ray for one CPU.

Failures: an actor that dies (killed, out of memory, its node lost) is restarted by Ray,
which loads its models again, and the batches it held are run again on it, up to
MAX_RESTARTS times per actor. Past that the run stops with a QAError naming the batch and
its articles; the steps already published stay, and the same command goes on from there.

`ray` is imported here only, and only when a run asks for it: `qa` without the
`cluster` extra starts as fast as before.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any

from index.articles import Article
from index.builder import chunker_for, embed_articles, embedding_profile
from index.config import Settings
from index.errors import QAError
from index.models import load_models
from index.onnx.runtime import usable_cores
from index.store.writer import StagedArticle

#: Articles per call to an actor: small enough that both actors stay busy and a retried
#: batch costs little (a few seconds of one core), large enough that Ray's per-call cost
#: (milliseconds) is nothing beside the embedding.
BATCH_ARTICLES = 8
#: Batches queued per actor, so it starts the next one while the driver collects the last.
QUEUED_PER_ACTOR = 2
#: Restarts of each actor, and retries of the batches it held when it died.
MAX_RESTARTS = 3


class EmbeddingWorker:
    """One Ray actor: the models loaded once, then batch after batch chunked and embedded."""

    def __init__(self, settings: Settings) -> None:
        models = load_models(settings)
        self.embedder, self.aux = models.main, models.aux
        self.chunker = chunker_for(settings, self.embedder)  # loads the main model
        self.second_model = ThreadPoolExecutor(1, thread_name_prefix="second-model")

    def profile(self) -> dict[str, object]:
        return embedding_profile(self.embedder, self.aux, self.chunker)

    def embed(self, articles: list[Article]) -> list[StagedArticle]:
        chunked = [self.chunker.split(article) for article in articles]
        return embed_articles(articles, chunked, self.embedder, self.aux, self.second_model)


class RayEmbedding:
    """Ray connected (or started) and its actors ready, for one indexing run: a context
    manager, so the actors and a Ray started here go when the run ends, however it ends."""

    def __init__(self, address: str, settings: Settings, profile: dict[str, object]) -> None:
        self.address = address
        self.settings = settings
        self.profile = profile
        self.ray = import_ray()
        self.actors: list[Any] = []

    def __enter__(self) -> RayEmbedding:
        ray = self.ray
        try:
            if self.address == "local":
                ray.init(address="local", num_cpus=usable_cores(), include_dashboard=False,
                         logging_level=logging.WARNING)
            else:
                ray.init(address=None if self.address == "auto" else self.address, logging_level=logging.WARNING)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            raise QAError(f"could not connect to the Ray cluster at {self.address!r}: {exc} "
                          "(`--ray local` starts one on this machine)") from exc
        try:
            workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
            remote = ray.remote(num_cpus=1, max_restarts=MAX_RESTARTS, max_task_retries=MAX_RESTARTS)
            self.actors = [remote(EmbeddingWorker).remote(self.settings) for _ in range(workers)]
            profiles = self._get([actor.profile.remote() for actor in self.actors], "loading the models")
            for profile in profiles:
                if profile != self.profile:
                    differs = sorted(k for k in self.profile if profile.get(k) != self.profile[k])
                    raise QAError(
                        "a Ray worker would embed differently from this process ("
                        + ", ".join(f"{k}: {profile.get(k)!r} there, {self.profile[k]!r} here" for k in differs)
                        + "); give every node the same QA_* settings and model files"
                    )
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
        self.actors = []
        self.ray.shutdown()  # stops a Ray started here; only disconnects from a cluster

    def embed(self, articles: Sequence[Article]) -> Iterator[StagedArticle]:
        """`articles` chunked and embedded on the actors, yielded in their order.

        A batch goes to whichever actor has room (QUEUED_PER_ACTOR each); results that
        arrive early wait for those before them, and no batch is sent further than one
        full queue ahead of the oldest unfinished one, so memory stays bounded."""
        batches = [list(articles[i:i + BATCH_ARTICLES]) for i in range(0, len(articles), BATCH_ARTICLES)]
        free = [actor for actor in self.actors for _ in range(QUEUED_PER_ACTOR)]
        window = len(free)
        running: dict[Any, tuple[int, Any]] = {}  # object ref -> (batch number, its actor)
        done: dict[int, list[StagedArticle]] = {}
        sent = given = 0
        while given < len(batches):
            while free and sent < len(batches) and sent - given < window:
                actor = free.pop(0)
                running[actor.embed.remote(batches[sent])] = (sent, actor)
                sent += 1
            ready, _ = self.ray.wait(list(running), num_returns=1)
            for ref in ready:
                number, actor = running.pop(ref)
                done[number] = self._batch(ref, number, batches)
                free.append(actor)
            while given in done:
                yield from done.pop(given)
                given += 1

    def _batch(self, ref: Any, number: int, batches: list[list[Article]]) -> list[StagedArticle]:
        ids = [a.id for a in batches[number]]
        shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
        result: list[StagedArticle] = self._get(ref, f"batch {number + 1} of {len(batches)} (articles {shown})")
        return result

    def _get(self, refs: Any, what: str) -> Any:
        """`ray.get(refs)`, with Ray's failures as a QAError that names `what` failed."""
        exceptions = self.ray.exceptions
        try:
            return self.ray.get(refs)
        except exceptions.RayActorError as exc:
            raise QAError(
                f"Ray failed {what}: its actor died and was not restarted (Ray restarts each at most "
                f"{MAX_RESTARTS} times): {_first_line(exc)}; the steps published so far stay, "
                "run the same command to go on"
            ) from exc
        except exceptions.RayTaskError as exc:
            raise QAError(f"Ray failed {what}: {_first_line(exc.cause or exc)}") from exc


def import_ray() -> Any:
    """The `ray` module, or a QAError that says how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise QAError("`--ray` needs Ray, which is not installed: `pip install -e '.[cluster]'`") from exc
    return ray


def _first_line(exc: BaseException) -> str:
    """Ray's messages run to many lines (tracebacks, hints): the first says what happened."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
