"""A logged model's id may be chosen by the caller: log_model writes it into the package's
loom-model.yaml before the row exists (the row needs the package's tree hash)."""

from __future__ import annotations

import pytest

from loom.errors import AlreadyExistsError, ValidationError
from loom.store import Store

TREE = "ab" * 32


def test_a_given_model_id_is_used_and_checked(store: Store) -> None:
    run = store.create_run("0")
    chosen = "m-" + "0123456789abcdef" * 2
    lm = store.create_logged_model(
        "0", "model", TREE, "sklearn", run_id=run.run_id, model_id=chosen
    )
    assert lm.model_id == chosen and store.get_logged_model(chosen) == lm
    with pytest.raises(AlreadyExistsError, match=chosen):
        store.create_logged_model("0", "other", TREE, "sklearn", model_id=chosen)
    for bad in ("m-123", "x-" + "0" * 32, "m-" + "G" * 32):
        with pytest.raises(ValidationError, match="'m-' and 32 hex digits"):
            store.create_logged_model("0", "model", TREE, "sklearn", model_id=bad)
    assert store.list_logged_models(run.run_id) == [lm]
