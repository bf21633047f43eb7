"""Sellers: an opt-out binds every campaign of the seller it names, or of the campaign it names."""

from pathlib import Path

import polars as pl
import pytest

from pipelines.config import load_config
from pipelines.errors import ConfigError
from pipelines.suppression.sellers import campaign_sellers, scope_aliases, seller_scope, unknown_seller_scopes
from tests.handmade import SCRUBLINE_YAML

SELLERS = "sellers:\n  acme: [spring, autumn]\n  bolt: [winback]\n"


def config_with(tmp_path: Path, text: str):
    (tmp_path / "scrubline.yaml").write_text(text)
    return load_config(tmp_path)


def test_every_campaign_has_the_one_default_seller_when_no_sellers_are_configured(tmp_path: Path) -> None:
    config = config_with(tmp_path, SCRUBLINE_YAML)
    assert campaign_sellers(config, pl.Series(["winback", "spring", "spring"])) == {
        "spring": "default",
        "winback": "default",
    }


def test_a_campaign_no_seller_lists_is_a_configuration_error_naming_it(tmp_path: Path) -> None:
    config = config_with(tmp_path, SCRUBLINE_YAML + SELLERS)
    assert campaign_sellers(config, pl.Series(["spring", "winback"])) == {"spring": "acme", "winback": "bolt"}
    with pytest.raises(ConfigError, match="sellers lists no seller for campaign\\(s\\) summer; an opt-out must know"):
        campaign_sellers(config, pl.Series(["spring", "summer"]))


def test_with_several_sellers_a_scope_naming_a_listed_campaign_becomes_its_seller_and_a_seller_stays(
    tmp_path: Path,
) -> None:
    aliases = scope_aliases(config_with(tmp_path, SCRUBLINE_YAML + SELLERS))
    scopes = pl.Series(["autumn", "acme", "winback", "Winback", None])
    assert pl.select(seller_scope(pl.lit(scopes), aliases)).to_series().to_list() == [
        "acme", "acme", "bolt", "Winback", None,
    ]  # fmt: skip


def test_with_one_seller_every_scoped_opt_out_binds_it_whatever_it_names(tmp_path: Path) -> None:
    aliases = scope_aliases(config_with(tmp_path, SCRUBLINE_YAML))
    assert aliases is None
    scopes = pl.Series(["spring", "a campaign long gone", None])
    assert pl.select(seller_scope(pl.lit(scopes), aliases)).to_series().to_list() == ["default", "default", None]


def test_a_scope_naming_no_configured_seller_is_reported_with_its_file(tmp_path: Path) -> None:
    suppression = pl.DataFrame(
        {"seller_scope": ["acme", "Winback", None, "Winback"], "source_file": ["o.csv", "o.csv", "o.csv", "p.csv"]}
    )
    aliases = scope_aliases(config_with(tmp_path, SCRUBLINE_YAML + SELLERS))
    assert unknown_seller_scopes(suppression, aliases=aliases).rows() == [("Winback", "o.csv"), ("Winback", "p.csv")]
    one_seller = pl.DataFrame({"seller_scope": ["default", None], "source_file": ["o.csv", "o.csv"]})
    assert unknown_seller_scopes(one_seller, aliases=None).height == 0
