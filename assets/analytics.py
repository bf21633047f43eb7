"""Analytics: per-number facts for analysts, CLI health for the number estate, and calling windows."""

import dagster as dg
import polars as pl

import pipelines.analytics.cli_health
import pipelines.analytics.dialled_numbers
import pipelines.analytics.numbers
import pipelines.calling.deferral
from assets.memo import memoised, upstream
from assets.metadata import frame_metadata, rate
from assets.resources import FRAME_OR_FILE, ScrublineData, reads_columns
from assets.run_clock import run_started
from pipelines.analytics.cli_health import HEALTH_STATUSES
from pipelines.analytics.dialled_numbers import SUPPRESSION_STATUSES
from pipelines.calling.deferral import lead_windows, listed_rows
from pipelines.inputs.crm import crm_numbers
from pipelines.phones.e164 import result_column
from pipelines.phones.masking import masked_e164
from pipelines.suppression.suppression_list import binding_suppressions

WORST_CLIS = 5


# Memoised (`assets.memo`): where a number appears depends on the inputs alone; what suppresses it that day does not.
@dg.asset(kinds={"polars"}, dagster_type=FRAME_OR_FILE)
def number_appearances(
    context: dg.AssetExecutionContext,
    scrubline: ScrublineData,
    normalised_crm_contacts: pl.DataFrame,
    normalised_dialler_leads: pl.LazyFrame,
) -> dg.Output[pl.DataFrame]:
    """One row per E.164 number in the CRM or a dialler list: its CRM contacts, dialler rows and campaigns."""
    config = scrubline.config
    phone = config.dialler.phone_column

    def compute() -> dg.Output[pl.DataFrame]:
        leads = normalised_dialler_leads.select(
            "campaign", phone_e164=result_column(phone, "e164"), phone_valid=result_column(phone, "valid")
        )
        appearances = pipelines.analytics.numbers.number_appearances(
            crm_numbers(normalised_crm_contacts, config.crm), leads
        )
        return dg.Output(
            appearances,
            metadata=frame_metadata(
                appearances, preview_columns=["phone_e164", "count_crm_contacts", "count_dialler_rows"]
            ),
        )

    depends_on = upstream(context, scrubline, "normalised_crm_contacts", "normalised_dialler_leads")
    return memoised(context, scrubline, depends_on=depends_on, compute=compute)


@dg.asset(kinds={"polars"})
def number_analytics(number_appearances: pl.DataFrame, suppression_list: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    """One row per E.164 number in the CRM or a dialler list: where it appears and what suppresses it (unexempted)."""
    per_number = pipelines.analytics.numbers.number_analytics(
        number_appearances, binding_suppressions(suppression_list)
    )
    count_suppressed = per_number.filter(pl.col("is_suppressed")).height
    return dg.Output(
        per_number,
        metadata={
            **frame_metadata(
                per_number, preview_columns=["phone_e164", "count_crm_contacts", "count_dialler_rows", "is_suppressed"]
            ),
            "suppressed_number_rate": rate(count_suppressed, per_number.height),
        },
    )


# Of the call log, each step reads the columns its analysis uses: the calls are its largest input.
_LOCATED_CALLS = ["dialled_e164", "dialled_type", "dialled_region", "started_at", "is_attempt"]


# Memoised (`assets.memo`): where each call's recipient is and whether the call broke its limit are facts of the call
# log, whatever the run's day; the CLIs' days, the breaches and the dialled numbers are all made from them.
@dg.asset(
    kinds={"polars"},
    dagster_type=FRAME_OR_FILE,
    op_tags=reads_columns(
        normalised_call_records=[
            *_LOCATED_CALLS, "call_id", "cli_e164", "disposition", "duration_s", "is_complaint", "call_reason",
            "source_file", "source_row",
        ]
    ),
)  # fmt: skip
def call_attempts(
    context: dg.AssetExecutionContext, scrubline: ScrublineData, normalised_call_records: pl.LazyFrame
) -> dg.Output[pl.DataFrame]:
    """One row per call attempt: its recipient's time zones, jurisdictions and call limit, the calls to it in the 24
    hours before, and whether the limit was already reached."""

    def compute() -> dg.Output[pl.DataFrame]:
        attempts = pipelines.calling.deferral.limited_calls(
            normalised_call_records.collect(), rules=scrubline.config.calling_time.rules
        )
        return dg.Output(
            attempts, metadata=frame_metadata(attempts, preview_columns=["call_id", "dialled_e164", "started_at"])
        )

    depends_on = upstream(context, scrubline, "normalised_call_records")
    return memoised(context, scrubline, depends_on=depends_on, compute=compute)


# Memoised (`assets.memo`): a CLI's days depend on the call log, the estate and the configuration, not the run's day.
@dg.asset(kinds={"polars"}, dagster_type=FRAME_OR_FILE)
def cli_days(
    context: dg.AssetExecutionContext,
    scrubline: ScrublineData,
    call_attempts: pl.DataFrame,
    normalised_number_estate: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """One row per CLI per UTC day: calls, recipients, answers, short calls, calls outside hours or over a number's
    call limit, complaints, cap."""
    config = scrubline.config

    def compute() -> dg.Output[pl.DataFrame]:
        days = pipelines.analytics.cli_health.cli_days(
            call_attempts,
            normalised_number_estate,
            daily_cap=config.calls.daily_cap,
            short_call_s=config.calls.short_call_s,
            rules=config.calling_time.rules,
        )
        return dg.Output(days, metadata=_cli_days_metadata(days, daily_cap=config.calls.daily_cap))

    depends_on = upstream(context, scrubline, "call_attempts", "normalised_number_estate")
    return memoised(context, scrubline, depends_on=depends_on, compute=compute)


def _cli_days_metadata(days: pl.DataFrame, *, daily_cap: int) -> dict[str, object]:
    return {
        **frame_metadata(days, preview_columns=["cli_e164", "day_utc", "count_calls", "answer_rate", "is_over_cap"]),
        "count_over_cap_days": days.get_column("is_over_cap").sum(),
        "count_calls_outside_hours": days.get_column("count_outside_hours").sum(),
        "count_calls_over_call_limit": days.get_column("count_over_call_limit").sum(),
        "daily_cap": daily_cap,
    }


@dg.asset(kinds={"polars"})
def cli_health(
    context: dg.AssetExecutionContext,
    scrubline: ScrublineData,
    cli_days: pl.DataFrame,
    normalised_number_estate: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    """One row per CLI in the estate or the call log: health (healthy, watch, rest, retire) and the reason in words."""
    calls = scrubline.config.calls
    health = pipelines.analytics.cli_health.cli_health(
        cli_days,
        normalised_number_estate,
        thresholds=calls.health,
        daily_cap=calls.daily_cap,
        short_call_s=calls.short_call_s,
        as_of=run_started(context).date(),
    )
    statuses = dict(health.get_column("health_status").cast(pl.String).value_counts().iter_rows())
    worst = pipelines.analytics.cli_health.worst_clis(health, count=WORST_CLIS)
    return dg.Output(
        health,
        metadata={
            **frame_metadata(health, preview_columns=["cli_e164", "pool", "health_status", "health_reason"]),
            **{f"count_clis/{status}": statuses.get(status, 0) for status in HEALTH_STATUSES},
            "worst_clis": frame_metadata(worst, preview_columns=worst.columns)["preview"],
            **_answer_rates(health),
        },
    )


@dg.asset(kinds={"polars"})
def pool_capacity(scrubline: ScrublineData, cli_health: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    """One row per CLI pool: CLIs owned and usable today against the CLIs its daily volume needs at the cap."""
    calls = scrubline.config.calls
    pools = pipelines.analytics.cli_health.pool_capacity(
        cli_health, daily_cap=calls.daily_cap, recent_days=calls.health.recent_days
    )
    return dg.Output(
        pools,
        metadata={
            **frame_metadata(pools, preview_columns=pools.columns),
            "count_pools_short": pools.filter(pl.col("count_clis_short") > 0).height,
        },
    )


@dg.asset(
    kinds={"duckdb", "polars"},
    op_tags=reads_columns(
        call_attempts=[
            "dialled_e164", "dialled_subdivision", "max_calls_per_24h", "is_over_call_limit", "started_at",
            "disposition", "source_file", "source_row", "is_attempt",
        ]
    ),
)  # fmt: skip
def dialled_numbers(
    context: dg.AssetExecutionContext, call_attempts: pl.DataFrame, suppression_list: pl.DataFrame
) -> dg.Output[pl.DataFrame]:
    """One row per dialled number: attempts in the last 24 h, 7 and 30 days, last call, contact rate, calls over its
    limit, status today."""
    numbers = pipelines.analytics.dialled_numbers.dialled_numbers(
        call_attempts, binding_suppressions(suppression_list), as_of=run_started(context)
    )
    statuses = dict(numbers.get_column("suppression_status").value_counts().iter_rows())
    return dg.Output(
        numbers,
        metadata={
            **frame_metadata(
                numbers,
                preview_columns=["dialled_e164", "dialled_subdivision", "count_attempts_24h", "suppression_status"],
            ),
            **{f"count_numbers/{status}": statuses.get(status, 0) for status in SUPPRESSION_STATUSES},
            "count_calls_over_call_limit_30d": numbers.get_column("count_over_call_limit_30d").sum(),
        },
    )


@dg.asset(kinds={"polars"})
def call_limit_breaches(call_attempts: pl.LazyFrame) -> dg.Output[pl.DataFrame]:
    """One row per call made when its number's call limit (Florida, Oklahoma: 3 in 24 hours) was already reached."""
    breaches = pipelines.calling.deferral.call_limit_breaches(call_attempts)
    return dg.Output(
        breaches,
        metadata={
            **frame_metadata(breaches, preview_columns=["cli_e164", "dialled_e164", "started_at"]),
            "count_clis": breaches.get_column("cli_e164").n_unique(),
            "count_numbers": breaches.get_column("dialled_e164").n_unique(),
        },
    )


@dg.asset(kinds={"polars"}, op_tags=reads_columns(scrubbed_leads=["campaign", "lead_id", "phone_e164", "outcome"]))
def calling_windows(scrubbed_leads: pl.DataFrame, clean_number_windows: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    """One row per clean or deferred list row: the recipient's time zones, jurisdictions, the list day's window in
    UTC, its call limit and calls in the last 24 hours, and why it is deferred."""
    windows = lead_windows(listed_rows(scrubbed_leads), clean_number_windows)
    count_without = windows.get_column("window_start_utc").null_count()
    return dg.Output(
        windows,
        metadata={
            **frame_metadata(windows, preview_columns=["campaign", "phone_e164", "window_start_utc", "window_end_utc"]),
            "count_without_window": count_without,
            "without_window_rate": rate(count_without, windows.height),
        },
    )


def _answer_rates(health: pl.DataFrame) -> dict[str, float]:
    """`answer_rate/<masked CLI>` for each CLI with recent calls, so the UI plots each over runs.

    Masks keep the country code and last four digits, so two CLIs can share one; the later in
    E.164 order gets ` #2` (then ` #3`), which holds from run to run while the estate is unchanged.
    """
    rates = health.filter(pl.col("answer_rate_recent").is_not_null()).select(
        masked=masked_e164(pl.col("cli_e164")), answer_rate="answer_rate_recent"
    )
    keyed = rates.with_columns(nth=pl.int_range(1, pl.len() + 1).over("masked"))
    return {
        f"answer_rate/{masked}" + (f" #{nth}" if nth > 1 else ""): answer_rate
        for masked, answer_rate, nth in keyed.iter_rows()
    }
