"""The `mnist-mlops registry` and `feedback` command groups: the registered model's versions, and the
corrections people made, which judge them."""

from dataclasses import fields

import click

from mnist_mlops.config import ExploreConfig
from mnist_mlops.options import field_option


def promotion_text(promotion) -> str:
    """What the registry decided, as the commands print it."""
    return f"version {promotion.version}: {promotion.decision}"


data_dir_option = field_option(next(spec for spec in fields(ExploreConfig) if spec.name == "data_dir"))


@click.group()
def registry() -> None:
    """The mnist-digits registered model: list, compare and promote versions."""


@registry.command("list")
def registry_list() -> None:
    """List the versions with their aliases, source run, family and test accuracy."""
    from mnist_mlops.jobs.registry import version_table

    table = version_table()
    click.echo(table.to_string(index=False) if len(table) else "no versions of mnist-digits yet")


@registry.command("compare")
@click.argument("a")
@click.argument("b")
@data_dir_option
def registry_compare(a: str, b: str, data_dir: str | None) -> None:
    """Compare versions A and B (numbers or aliases) on the 10,000 test images."""
    from mnist_mlops.jobs.feedback import feedback_text, score_versions
    from mnist_mlops.jobs.registry import compare_versions, robustness_of

    result = compare_versions(a, b, data_dir)
    click.echo(f"{a}: accuracy {result.accuracy_a:.4f}\n{b}: accuracy {result.accuracy_b:.4f}")
    click.echo(f"difference {result.difference:+.4f}, 95% CI [{result.ci_low:+.4f}, {result.ci_high:+.4f}]")
    click.echo(
        f"McNemar exact test: {result.only_a_right} images only {a} gets right, {result.only_b_right} only "
        f"{b}; p = {result.p_value:.4g} ({'significant' if result.significant() else 'not significant'} at 5%)"
    )
    for reference in (a, b):
        click.echo(f"{reference}: robust_mean_accuracy {robustness_of(reference)}")
    for reference, score in score_versions([a, b]).items():
        click.echo(f"{reference}: feedback_accuracy {feedback_text(score)}")


@registry.command("promote")
@click.argument("version")
@click.option("--force", is_flag=True, help="Promote even if it is not significantly better.")
@data_dir_option
def registry_promote(version: str, force: bool, data_dir: str | None) -> None:
    """Make VERSION the champion if it is significantly better on test (McNemar, 5%); a version `retrain`
    made, if it is not significantly worse on test and better on the corrections it held out."""
    from mnist_mlops.jobs.registry import promote_version

    click.echo(promotion_text(promote_version(version, force, data_dir)))


@click.group()
def feedback() -> None:
    """The feedback set: images people corrected, which robustness --suite feedback and registry compare score."""


@feedback.command("add")
@click.argument("images", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--label", required=True, help="The digits the images hold, such as 7 or 42.")
@click.option("--request", help="The request_id of the answer they correct (from the answer or the inference log): "
              "monitor's live accuracy joins the two.")  # fmt: skip
def feedback_add(images: tuple[str, ...], label: str, request: str | None) -> None:
    """Add PNG or JPEG images that hold LABEL to the feedback set the playground writes; every file is
    checked before any is added."""
    from pathlib import Path

    from mnist_mlops.jobs.feedback import add_feedback

    names, size = add_feedback([Path(image) for image in images], label, request)
    click.echo(f"added {len(names)} images of {label}: the feedback set holds {size} images")
