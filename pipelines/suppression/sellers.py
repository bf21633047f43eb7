"""Sellers: whose campaigns an opt-out binds.

A company-specific do-not-call request binds the seller on whose behalf calls are made, not one
campaign (47 CFR 64.1200(d)(3)). `scrubline.yaml` maps each seller to its campaigns (dialler file
stems); without `sellers:` every campaign belongs to one seller, which every scoped opt-out binds. With
`sellers:`, an opt-out's scope may name a seller or any campaign listed under it; either way it binds
every campaign of that seller, whether or not the campaign has a dialler file tonight.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from pipelines.config import DEFAULT_SELLER, ScrublineConfig
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


def scope_aliases(config: ScrublineConfig) -> dict[str, str] | None:
    """What an opt-out's scope may name, as the seller it binds: each configured seller, and each campaign
    `sellers:` lists (whether or not it has a dialler file tonight); None when there is one seller."""
    if config.sellers is None:
        return None
    return {seller: seller for seller in config.sellers} | {
        campaign: seller for seller, campaigns in config.sellers.items() for campaign in campaigns
    }


def seller_scope(scope: pl.Expr, aliases: Mapping[str, str] | None) -> pl.Expr:
    """An opt-out's written scope as the seller it binds (null: every seller). With one seller every scope binds
    it; otherwise a campaign becomes its seller, a seller stays, and any other name is kept as written, so the
    blocking check `opt_out_sellers_exist` can name it."""
    if aliases is None:
        return pl.when(scope.is_not_null()).then(pl.lit(DEFAULT_SELLER))
    return scope.replace(dict(aliases))


def unknown_seller_scopes(suppression_list: pl.DataFrame, *, aliases: Mapping[str, str] | None) -> pl.DataFrame:
    """(seller scope, source file) pairs naming no configured seller: opt-outs whose scope cannot be honoured."""
    known = pl.Series(sorted(set((aliases or {DEFAULT_SELLER: DEFAULT_SELLER}).values())), dtype=pl.String)
    return (
        suppression_list.filter(pl.col("seller_scope").is_not_null() & ~pl.col("seller_scope").is_in(known.implode()))
        .select("seller_scope", "source_file")
        .unique()
        .sort("seller_scope", "source_file")
    )
