"""Established business relationships (EBR): which numbers national and state registries do not bind today.

A CRM contact's purchase establishes a relationship for `ebr_purchase_months` (18) and an inquiry
for `ebr_inquiry_months` (3), through the same day of the last month (2025-05-27 + 18 months: through
2026-11-27). The relationship covers every valid number of the contact. A do-not-call flag on any
contact holding the number ends it, and so does an entry on any list an EBR does not lift (internal
opt-outs, litigators; whatever its scope) requested on or after the day of the purchase or inquiry,
or of unknown date. An opt-out is honoured for `honour_years` (5): within them it ends every
relationship, even one a later purchase would start (47 CFR 64.1200(d)(6), (f)(5)(i)). It exempts only
from national and state registries (`Registry.is_ebr_exemptible`); the scrub applies that.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from pipelines.config import CrmSource
from pipelines.duck import query_frames

EBR_PURCHASE = "ebr_purchase"
EBR_INQUIRY = "ebr_inquiry"

_RELATIONSHIPS = """
with activity as (
    select phone_e164, contact_id, $purchase as exemption, last_purchase_on as ebr_date,
           (last_purchase_on + to_months($purchase_months))::date as ebr_until
    from crm_numbers
    where last_purchase_on is not null
    union all
    select phone_e164, contact_id, $inquiry as exemption, last_inquiry_on as ebr_date,
           (last_inquiry_on + to_months($inquiry_months))::date as ebr_until
    from crm_numbers
    where last_inquiry_on is not null
),

active as (
    select * from activity where $today between ebr_date and ebr_until
),

flagged as (
    select distinct phone_e164 from crm_numbers where is_do_not_call
),

last_opt_outs as (
    -- An opt-out of unknown date is taken as the latest: it ends any relationship (fail closed).
    select phone_e164, max(coalesce(requested_at, 'infinity'::timestamptz)) as last_opt_out_at
    from registry_entries
    where phone_valid and list_contains($opt_out_registries, registry)
    group by phone_e164
),

standing as (
    -- An opt-out ends the relationship it follows, and any that a purchase or inquiry starts while it is honoured.
    select active.*
    from active
    left join last_opt_outs using (phone_e164)
    where active.phone_e164 not in (select phone_e164 from flagged)
      and (
          last_opt_outs.last_opt_out_at is null
          or last_opt_outs.last_opt_out_at < least(active.ebr_date, $honoured_since)::timestamptz
      )
)

select phone_e164, contact_id, exemption, ebr_date, ebr_until
from standing
qualify row_number() over (partition by phone_e164 order by ebr_until desc, ebr_date desc, contact_id) = 1
order by phone_e164
"""


def established_relationships(
    crm_numbers: pl.DataFrame,
    registry_entries: pl.DataFrame,
    *,
    source: CrmSource,
    opt_out_registries: Sequence[str],
    today: date,
) -> pl.DataFrame:
    """One row per number with a standing relationship on `today`: the contact, its basis, date and last day.

    When several contacts or both bases qualify, the one that lasts longest is named.
    """
    return query_frames(
        _RELATIONSHIPS,
        params={
            "purchase": EBR_PURCHASE,
            "inquiry": EBR_INQUIRY,
            "purchase_months": source.ebr_purchase_months,
            "inquiry_months": source.ebr_inquiry_months,
            "today": today,
            "honoured_since": _years_before(today, source.honour_years),
            "opt_out_registries": list(opt_out_registries),
        },
        crm_numbers=crm_numbers.select(
            "phone_e164", "contact_id", "is_do_not_call", "last_purchase_on", "last_inquiry_on"
        ),
        registry_entries=registry_entries.select("registry", "phone_e164", "phone_valid", "requested_at"),
    )


def _years_before(day: date, years: int) -> date:
    """The same day `years` earlier (29 February becomes 28 February): opt-outs from then on are still honoured."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)
