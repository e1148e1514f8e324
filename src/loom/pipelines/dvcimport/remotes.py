"""DVC remotes -> Loom remotes, where Loom can use the same URL.

``.dvc/config`` goes to ``.loom/config.toml`` and ``.dvc/config.local`` to
``.loom/config.local.toml``; ``core.remote`` becomes the default. A local path
(relative to ``.dvc/`` in DVC's config, to the workspace root in Loom's) and
``s3://`` (``endpointurl`` -> ``endpoint_url``), ``gs://``, ``azure://`` carry
over; other schemes are reported. Credentials and other options are not copied
(Loom reads them from the usual environment variables and files) but named in
the report. Loom's objects go under ``blake3/`` and ``packs/`` beside DVC's
``files/md5/``, so both can share one bucket or folder.
"""

from __future__ import annotations

import posixpath
import re

from loom.data.remote_config import NAME
from loom.data.remotes import add_remote, list_remotes, set_default
from loom.data.workspace import Workspace
from loom.errors import LoomError
from loom.pipelines.dvcimport.project import DvcProject
from loom.pipelines.dvcimport.report import Report

_SECTION = re.compile(r'^remote "(.+)"$')
_SCHEMES = {"s3", "gs", "gcs", "azure", "az", "file"}
_IGNORED = {"url", "endpointurl"}


def convert(project: DvcProject, ws: Workspace, report: Report, *, force: bool) -> None:
    for local in (False, True):
        conf = project.config(local=local)
        added = set()
        for section, values in conf.items():
            m = _SECTION.match(section)
            if m and _one(ws, report, m[1], values, local, force):
                added.add(m[1])
        default = conf.get("core", {}).get("remote")
        if default and default in added | {r.name for r in list_remotes(ws)}:
            set_default(ws, default, local=local)
            report.done("remote", default, "is the default remote (core.remote)")
        elif default:
            report.needs("remote", default, "DVC's default remote was not converted")


def _one(
    ws: Workspace, report: Report, name: str, values: dict[str, str], local: bool, force: bool
) -> bool:
    where = ".dvc/config.local" if local else ".dvc/config"
    url = values.get("url", "")
    scheme, sep, _ = url.partition("://")
    if not NAME.match(name):
        report.needs("remote", name, f"{where}: the name is not a valid Loom remote name",
                     hint=f"Add it by hand: `loom remote add NAME {url}`.")  # fmt: skip
        return False
    if sep and scheme not in _SCHEMES:
        report.needs(
            "remote",
            name,
            f"{where}: {url} is not a kind of remote Loom reaches ({scheme}://)",
            hint="Loom's remotes are a local folder, s3://, gs:// or azure://; "
            "add one with `loom remote add`.",
        )
        return False
    if not sep:  # DVC's relative paths are relative to .dvc/, Loom's to the root
        url = url if posixpath.isabs(url) else posixpath.normpath(posixpath.join(".dvc", url))
    endpoint = values.get("endpointurl")
    try:
        add_remote(ws, name, url, endpoint_url=endpoint, force=force, local=local)
    except LoomError as exc:
        report.needs("remote", name, f"{where}: {exc.message}", exc.hint)
        return False
    suffix = f" (endpoint {endpoint})" if endpoint else ""
    target = ".loom/config.local.toml" if local else ".loom/config.toml"
    report.done("remote", name, f"{where} -> {target}: {url}{suffix}")
    report.wrote(target)
    rest = sorted(set(values) - _IGNORED)
    if rest:
        report.needs(
            "remote",
            name,
            f"options not carried over: {', '.join(rest)}",
            hint="Loom reads credentials and regions from the usual environment "
            "variables and files (e.g. AWS_PROFILE, ~/.aws/credentials).",
        )
    return True
