"""`scrubline run`'s execution: a run keeps no step's output in memory once the IO manager has it."""

import gc
import weakref

import dagster as dg
import polars as pl

from assets.run_command import execute_without_capture

RUN_ID = "00000000-0000-4000-8000-000000000001"


class _Discarding(dg.IOManager):
    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        pass

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        return pl.DataFrame({"lead_id": [1]})


def test_a_run_holds_no_step_output_after_the_step() -> None:
    returned: list[weakref.ref[pl.DataFrame]] = []

    @dg.asset
    def leads() -> pl.DataFrame:
        frame = pl.DataFrame({"lead_id": [1, 2, 3]})
        returned.append(weakref.ref(frame))
        return frame

    defs = dg.Definitions(
        assets=[leads],
        jobs=[dg.define_asset_job("leads_job")],
        resources={"io_manager": dg.IOManagerDefinition.hardcoded_io_manager(_Discarding())},
    )
    job = defs.resolve_job_def("leads_job")
    with dg.DagsterInstance.ephemeral() as instance:
        result = execute_without_capture(job, run_config={}, instance=instance, run_id=RUN_ID)
        gc.collect()

        assert result.success
        assert result.run_id == RUN_ID
        assert [ref() for ref in returned] == [None]
        assert instance.get_run_by_id(result.run_id).is_success
