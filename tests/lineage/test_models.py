"""Lineage from a model version, the seeds' question (`version_at`) and two versions side by
side, on SQLite and PostgreSQL. Alias histories are dated in the past through the store's
`time=` (what an import of history uses), so the question is asked about real dates."""

from __future__ import annotations

import pytest

from loom.errors import NotFoundError, ValidationError
from loom.lineage import render, trace
from loom.lineage.at import version_at
from loom.lineage.diff import diff_versions
from loom.objects.hashing import hash_bytes
from loom.timeparse import parse_time
from tests.lineage.test_trace import chain  # noqa: F401  (the two-stage pipeline fixture)


def _ms(text: str) -> int:
    return parse_time(text)


def _register(client, name: str, run_id: str | None, files: bytes):
    tree = hash_bytes(files)
    mv, _ = client.create_model_version(name, f"runs:/{run_id}/model", tree, run_id=run_id)
    return mv


def _promote(client, name: str, alias: str, version: int, when: str, comment: str = "") -> None:
    store = client.backend.store
    store.set_registered_model_alias(
        name, alias, version, comment or None, user="alice", time=_ms(when)
    )


def test_from_a_model_version_back_to_the_raw_data(chain, client) -> None:  # noqa: F811
    mv = _register(client, "rag", chain["b"], b"weights v1")
    _promote(client, "rag", "production", mv.version, "2026-03-01T10:00")
    for uri in ("models:/rag@production", "models:/rag/1", "models:/rag/latest"):
        g = trace(client, uri)
        assert g.roots == ["model:rag/1"]
        runs = {n for n in g.nodes if n.startswith("run:")}
        assert runs == {f"run:{chain['a']}", f"run:{chain['b']}"}
        assert f"data:{chain['raw'].hash}" in g.nodes
    assert g.nodes["model:rag/1"].attrs["aliases"] == ["production"]
    assert (f"run:{chain['b']}", "model:rag/1", "registered") in {
        (e.source, e.target, e.kind) for e in g.edges
    }
    text = render.text(g)
    assert text.splitlines()[0].startswith("model rag v1 [production]")
    order = [
        "registered from run train",
        "read out/processed",
        "produced by run prep",
        "read data/raw",
    ]
    assert [text.index(s) for s in order] == sorted(text.index(s) for s in order)


def test_forward_from_the_raw_data_reaches_the_model_version(chain, client) -> None:  # noqa: F811
    _register(client, "rag", chain["b"], b"weights v1")
    g = trace(client, "data/raw", rev="HEAD")
    assert "model:rag/1" in g.nodes
    assert "registered as model rag v1" in render.text(g)
    assert "-->|registered as|" in render.mermaid(g)


def test_bad_model_uris_are_clear_errors(client) -> None:
    _register(client, "rag", None, b"w")
    with pytest.raises(ValidationError, match="neither a version number nor 'latest'"):
        trace(client, "models:/rag/abc")
    with pytest.raises(ValidationError, match="names no version"):
        trace(client, "models:/rag")
    with pytest.raises(NotFoundError, match="no alias 'production'"):
        trace(client, "models:/rag@production")
    with pytest.raises(NotFoundError):
        trace(client, "models:/nope/1")
    g = trace(client, "models:/rag/1")  # registered without a run: the version alone
    assert list(g.nodes) == ["model:rag/1"] and g.edges == []


@pytest.fixture
def history(chain, client):  # noqa: F811
    """rag v1 (run train, commit c1…) in production from March 1st 10:00, v2 from March
    20th 09:00, then production removed on April 2nd."""
    client.set_tag(chain["b"], "loom.git.commit", "c1" * 20)
    client.log_metric(chain["b"], "precision", 0.5)
    v1 = _register(client, "rag", chain["b"], b"weights v1")
    exp = client.get_or_create_experiment("lineage").experiment_id
    run2 = client.create_run(exp, name="train-2").run_id
    client.log_metric(run2, "recall_at_10", 0.95)
    client.log_param(run2, "lr", "0.01")
    client.set_tag(run2, "loom.git.commit", "c2" * 20)
    client.set_terminated(run2)
    v2 = _register(client, "rag", run2, b"weights v2")
    _promote(client, "rag", "production", v1.version, "2026-03-01T10:00", "recall 0.92")
    _promote(client, "rag", "production", v2.version, "2026-03-20T09:00", "recall 0.95")
    client.backend.store.delete_registered_model_alias(
        "rag", "production", "retired", user="bob", time=_ms("2026-04-02T08:00")
    )
    return {**chain, "run2": run2}


def test_the_seeds_question_on_march_15th(history, client) -> None:
    answer = version_at(client, "rag", "production", parse_time("2026-03-15"))
    assert answer.version.version == 1
    assert answer.metrics == {"precision": 0.5, "recall_at_10": 0.92}
    assert answer.run.run_id == history["b"] and answer.git_commit == "c1" * 20
    assert [(i.path, i.hash) for i in answer.inputs] == [
        ("out/processed", history["processed"].hash)
    ]
    assert answer.event.user == "alice" and answer.event.comment == "recall 0.92"
    one = version_at(client, "rag", "production", _ms("2026-03-15"), metric="recall_at_10")
    assert one.metrics == {"recall_at_10": 0.92}
    doc = one.to_dict()
    assert doc["version"] == 1 and doc["inputs"][0]["path"] == "out/processed"


def test_at_exact_event_times_between_them_and_at_a_bare_date(history, client) -> None:
    t2 = _ms("2026-03-20T09:00")
    assert version_at(client, "rag", "production", t2 - 1).version.version == 1
    assert version_at(client, "rag", "production", t2).version.version == 2  # the move counts
    assert version_at(client, "rag", "production", _ms("2026-03-01T10:00")).version.version == 1
    # a bare date is the end of that day: March 20th holds the move made that morning
    assert version_at(client, "rag", "production", _ms("2026-03-20")).version.version == 2
    assert version_at(client, "rag", "production", _ms("2026-03-19")).version.version == 1


def test_no_version_held_it_then_says_when_it_was_first_set(history, client) -> None:
    with pytest.raises(NotFoundError) as before:
        version_at(client, "rag", "production", _ms("2026-02-28"))
    assert "first set at 2026-03-01 10:00:00 (to version 1)" in before.value.message
    assert "loom models history rag --alias production" in before.value.hint
    with pytest.raises(NotFoundError, match="removed at 2026-04-02 08:00:00") as after:
        version_at(client, "rag", "production", _ms("2026-04-03"))
    assert "first set at 2026-03-01" in after.value.message
    with pytest.raises(NotFoundError, match="no alias 'staging'"):
        version_at(client, "rag", "staging", _ms("2026-03-15"))
    with pytest.raises(NotFoundError, match=r"has no metric 'f1'.*precision, recall_at_10"):
        version_at(client, "rag", "production", _ms("2026-03-15"), metric="f1")


def test_diff_of_two_versions(history, client) -> None:
    d = diff_versions(client, "rag", 1, 2)
    rows = {r.key: r for r in d.rows}
    assert rows["tree"].differs and rows["git.commit"].values == ("c1" * 20, "c2" * 20)
    assert rows["inputs.out/processed"].values == (history["processed"].hash, None)
    assert rows["metrics.recall_at_10"].values == (0.92, 0.95)
    assert rows["params.lr"].values == (None, "0.01") and rows["params.lr"].differs
    assert not rows["flavor"].differs and not rows["status"].differs
    assert [r.section for r in d.rows] == sorted(
        (r.section for r in d.rows),
        key=["version", "git", "inputs", "attributes", "params", "metrics", "tags"].index,
    )
    _promote(client, "rag", "staging", 1, "2026-04-05T10:00")
    by_ref = diff_versions(client, "rag", "latest", "@staging")
    assert [mv.version for mv in by_ref.versions] == [2, 1]


def test_diff_with_a_version_registered_without_a_run(history, client) -> None:
    lone = _register(client, "rag", None, b"weights v3")
    d = diff_versions(client, "rag", 1, lone.version)
    rows = {r.key: r for r in d.rows}
    assert rows["run"].values == (history["b"], None)
    assert rows["metrics.recall_at_10"].values == (0.92, None)
    assert rows["git.commit"].values == ("c1" * 20, None) and rows["git.commit"].differs
