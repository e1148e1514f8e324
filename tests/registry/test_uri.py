"""Model URIs: every accepted form, and a clear error listing the forms for the rest."""

from __future__ import annotations

import pytest

from loom.errors import ValidationError
from loom.registry.uri import (
    AliasURI,
    LatestURI,
    LoggedModelURI,
    RunsURI,
    VersionURI,
    parse,
)

RUN = "0123456789abcdef0123456789abcdef"
MID = "m-" + "ab" * 16


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        (f"runs:/{RUN}/model", RunsURI(RUN, "model")),
        (f"runs:/{RUN}/models/clf/", RunsURI(RUN, "models/clf")),
        (f"runs:/{RUN[:8]}/model", RunsURI(RUN[:8], "model")),
        ("models:/rag-embedder/3", VersionURI("rag-embedder", 3)),
        ("models:/rag embedder/12", VersionURI("rag embedder", 12)),
        ("models:/rag-embedder@production", AliasURI("rag-embedder", "production")),
        ("models:/rag-embedder@canary_2", AliasURI("rag-embedder", "canary_2")),
        ("models:/rag-embedder/latest", LatestURI("rag-embedder")),
        (f"models:/{MID}", LoggedModelURI(MID)),
    ],
)
def test_each_form_parses_and_prints_back(text: str, parsed: object) -> None:
    assert parse(text) == parsed
    assert parse(str(parsed)) == parsed


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("s3://bucket/model", "neither 'runs:/' nor 'models:/'"),
        ("runs:/nothex!/model", "is not a run id"),
        (f"runs:/{RUN}", "names no artifact path"),
        (f"runs:/{RUN}/", "names no artifact path"),
        (f"runs:/{RUN}/../etc", "'..' part"),
        (f"runs:/{RUN}/a//b", "empty part"),
        ("models:/churn", "names no version or alias"),
        ("models:/churn/0", "neither a version number nor 'latest'"),
        ("models:/churn/v3", "neither a version number nor 'latest'"),
        ("models:/churn/Production", "in Loom stages are aliases: models:/churn@production"),
        ("models:/churn@Prod", "is not lowercase"),
        ("models:/churn@", "is not lowercase"),
        ("models:/@prod", "the model name is empty"),
        ("models://3", "the model name is empty"),
        ("models:/ churn/3", "starts or ends with a space"),
        ("models:/a:b/3", "contains ':'"),
        ("models:/a\nb/3", "contains '\\n'"),
        ("models:/" + "x" * 501 + "/1", "501 characters"),
        (None, "not a string"),
    ],
)
def test_a_malformed_uri_says_why_and_lists_the_forms(text: object, why: str) -> None:
    with pytest.raises(ValidationError) as info:
        parse(text)
    assert why in info.value.message
    assert "models:/NAME@ALIAS" in (info.value.hint or "")
    assert "runs:/RUN_ID/path" in (info.value.hint or "")
