"""Publish: swap the completed next version in -- shards, manifest and audit files at once."""

from __future__ import annotations

from prefect import task

from pipelines.tasks import NO_PHI_STORAGE
from pipelines.tasks.context import NextVersion, Staging


@task(name="publish", **NO_PHI_STORAGE)
def publish(staging: Staging, version: NextVersion) -> None:
    """Swap the staged version in (nothing, when ``version`` publishes nothing).

    One atomic exchange makes it the output dir (see ``pipelines.output.shards``):
    readers see the old dataset with its audit report or the new one with its own,
    never a mix.
    """
    if version.publishing:
        staging.area.swap_in()  # the commit point; the previous version is deleted after it
