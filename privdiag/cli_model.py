"""The ``model-check`` command: a saved model scored on consent-filtered blind sets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from privdiag.cli_emit import emit
from privdiag.cli_options import (
    ConfigOpt,
    FailOnOpt,
    HtmlOpt,
    JsonOpt,
    JunitOpt,
    MarkdownOpt,
    Outputs,
    QuietOpt,
    fail_on_level,
    load_config,
)
from privdiag.errors import UsageError

EPILOG = (
    "Example: privdiag model-check models/propensity.onnx --blind-set holdout.parquet "
    "--label converted --consent-rates analytics=0.62,ads=0.41 --html model.html"
)

ModelArg = Annotated[
    Path, typer.Argument(help="Saved model: .onnx, .skops (or a pickle with --allow-pickle).")
]
BlindSetOpt = Annotated[
    Path, typer.Option("--blind-set", help="Labelled held-out data (CSV, Parquet, NDJSON or JSON).")
]
ReferenceOpt = Annotated[
    Path | None,
    typer.Option(
        "--reference",
        help="Reference data for drift, in a blind set's formats (default: the unmasked "
        "blind set).",
    ),
]
LabelOpt = Annotated[
    str | None,
    typer.Option(
        "--label",
        help="Label column (default: the config's [models.NAME] label, else a column 'label').",
    ),
]
ScanResultOpt = Annotated[
    Path | None,
    typer.Option(
        "--scan-result",
        help="A scan's JSON: its consent rates and mix drive the observed scenario (each row "
        "draws its whole combination of consent states), and model findings link to its data "
        "findings as their causes.",
    ),
]
ConsentRatesOpt = Annotated[
    str | None,
    typer.Option(
        "--consent-rates",
        help="Consent rates, e.g. analytics=0.62,ads=0.41, each purpose drawn on its own "
        "(independently); they take the place of the scan result's rates and mix.",
    ),
]
SeedOpt = Annotated[
    int, typer.Option("--seed", help="Seed for the observed scenario and the bootstrap.")
]
ThresholdOpt = Annotated[
    float, typer.Option("--threshold", help="Decision threshold for accuracy and precision.")
]
AllowPickleOpt = Annotated[
    bool,
    typer.Option("--allow-pickle", help="Load pickle/joblib models, in a separate process only."),
]
ExportBlindSetsOpt = Annotated[
    str | None,
    typer.Option(
        "--export-blind-sets",
        metavar="<path>",
        help="Write each scenario's inputs here to score elsewhere.",
    ),
]
PredictionsOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--predictions",
        help="Scores computed elsewhere: one CSV, Parquet or NDJSON per exported scenario, named "
        "after it (unmasked.csv, deny_ads.parquet, ...), with row_id and score.",
    ),
]


def model_check(
    model: ModelArg,
    blind_set: BlindSetOpt,
    reference: ReferenceOpt = None,
    label: LabelOpt = None,
    scan_result: ScanResultOpt = None,
    consent_rates: ConsentRatesOpt = None,
    seed: SeedOpt = 0,
    threshold: ThresholdOpt = 0.5,
    allow_pickle: AllowPickleOpt = False,
    export_blind_sets: ExportBlindSetsOpt = None,
    predictions: PredictionsOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = None,
    html: HtmlOpt = None,
    markdown: MarkdownOpt = None,
    junit: JunitOpt = None,
    fail_on: FailOnOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Measure how a saved model degrades, drifts and mis-calibrates on consent-filtered
    blind sets."""
    from privdiag.model import parse_consent_rates, run_model_check
    from privdiag.output import check_folder, folder_option

    outputs = Outputs(json_out, html, markdown, junit, fail_on, quiet)
    _check_numbers(seed, threshold)
    outputs.check()
    cfg = load_config(config)
    given = [model, blind_set, reference, scan_result, *(predictions or []), cfg.path]
    outputs.check_apart(given)
    fail_on_level(outputs, cfg)
    export_folder = None
    if export_blind_sets is not None:
        export_folder = folder_option(export_blind_sets, "--export-blind-sets")
        check_folder(export_folder, "--export-blind-sets")
    rates = parse_consent_rates(consent_rates) if consent_rates else None

    result = run_model_check(
        model,
        blind_set,
        config=cfg,
        label=label,
        reference=reference,
        scan_result=scan_result,
        consent_rates=rates,
        seed=seed,
        allow_pickle=allow_pickle,
        export_blind_sets=export_folder,
        predictions=predictions,
        threshold=threshold,
    )
    if scan_result is not None:
        from privdiag.chains import link_scan_result

        link_scan_result(result.findings, scan_result)
    raise typer.Exit(emit([result.to_dict()], outputs, cfg))


def _check_numbers(seed: int, threshold: float) -> None:
    """Raise UsageError for a negative --seed (numpy's generator takes none: an internal
    error before) or a --threshold that is not a probability (5, -1 or nan scored every row
    one way without a word)."""
    if seed < 0:
        raise UsageError(f"--seed {seed} is negative", hint="give a whole number from 0")
    if not 0 < threshold < 1:  # false for nan too
        raise UsageError(
            f"--threshold {threshold} is not a probability above 0 and below 1",
            hint="the score above which a row counts as class 1, e.g. 0.5",
        )
