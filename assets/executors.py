"""Where a run's steps execute: in the run's own process, or each in its own Kubernetes pod.

`SCRUBLINE_EXECUTOR` chooses, when the code location loads: `in_process` (the default) or `k8s`. In-process
because on one machine the steps are short and pass frames through files, and one process holds the data
directory's lock for the whole run. `k8s` runs each step as a Kubernetes job (dagster-k8s, the `cluster`
extra), in a cluster where runs are queued one at a time per data directory (docs/kubernetes.md).
"""

import os

import dagster as dg

from pipelines.errors import ConfigError

EXECUTOR_VARIABLE = "SCRUBLINE_EXECUTOR"
IN_PROCESS = "in_process"
KUBERNETES = "k8s"


def executor_from_environment() -> dg.ExecutorDefinition:
    """The executor `$SCRUBLINE_EXECUTOR` names; in-process when unset."""
    return executor_named(os.environ.get(EXECUTOR_VARIABLE, IN_PROCESS))


def executor_named(name: str) -> dg.ExecutorDefinition:
    """`in_process` or `k8s` (which needs dagster-k8s: `pip install scrubline[cluster]`)."""
    if name == IN_PROCESS:
        return dg.in_process_executor
    if name == KUBERNETES:
        from dagster_k8s import k8s_job_executor  # only clusters install dagster-k8s

        return k8s_job_executor
    raise ConfigError(
        f"{EXECUTOR_VARIABLE}={name!r} is not an executor Scrubline runs on: set it to {IN_PROCESS} (one process "
        f"per run, the default) or {KUBERNETES} (a Kubernetes job per step; see docs/kubernetes.md)"
    )
