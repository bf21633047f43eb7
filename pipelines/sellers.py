"""Sellers: whose campaigns an opt-out binds.

A company-specific do-not-call request binds the seller on whose behalf calls are made, not one
campaign (47 CFR 64.1200(d)(3)). `scrubline.yaml` maps each seller to its campaigns (dialler file
stems); without `sellers:` every campaign belongs to one seller. An opt-out's scope may name a seller
or one of its campaigns; either way it binds every campaign of that seller.
"""

from __future__ import annotations

import polars as pl

from pipelines.config import ScrublineConfig
from pipelines.errors import ConfigError


def campaign_sellers(config: ScrublineConfig, campaigns: pl.Series) -> dict[str, str]:
    """Each campaign's seller; a campaign `sellers:` lists nowhere is a configuration error naming it."""
    distinct = sorted(campaigns.drop_nulls().unique().to_list())
    unlisted = [campaign for campaign in distinct if config.seller_of(campaign) is None]
    if unlisted:
        raise ConfigError(
            f"scrubline.yaml: sellers lists no seller for campaign(s) {', '.join(unlisted)}; an opt-out must know "
            "whose campaigns it binds: add each campaign under its seller"
        )
    return {campaign: str(config.seller_of(campaign)) for campaign in distinct}


def seller_scope(scope: pl.Expr, sellers: dict[str, str]) -> pl.Expr:
    """An opt-out's written scope as its seller: a campaign becomes its seller, a seller stays; other names are kept
    as written, so the blocking check `opt_out_sellers_exist` can name them."""
    return scope.replace(sellers)


def unknown_seller_scopes(suppression_list: pl.DataFrame, *, sellers: dict[str, str]) -> pl.DataFrame:
    """(seller scope, source file) pairs naming no seller of this run: opt-outs whose scope cannot be honoured."""
    known = pl.Series(sorted(set(sellers.values())), dtype=pl.String)
    return (
        suppression_list.filter(pl.col("seller_scope").is_not_null() & ~pl.col("seller_scope").is_in(known.implode()))
        .select("seller_scope", "source_file")
        .unique()
        .sort("seller_scope", "source_file")
    )
