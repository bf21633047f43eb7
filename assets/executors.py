"""Where a run's steps execute: in the run's own process, each in a process of its own, or each in its own
Kubernetes pod.

`SCRUBLINE_EXECUTOR` chooses, when the code location loads: `in_process` (the default), `multiprocess` or
`k8s`. In-process because on one machine the steps are short and pass frames through files: a process per
step costs more than the work on a small machine (docs/operations.md), and one process holds the data
directory's lock for the whole run. `k8s` runs each step as a Kubernetes job (dagster-k8s, the `cluster`
extra), in a cluster where runs are queued one at a time (docs/kubernetes.md).
"""

import os

import dagster as dg

from pipelines.errors import ConfigError

EXECUTOR_VARIABLE = "SCRUBLINE_EXECUTOR"
IN_PROCESS = "in_process"
MULTIPROCESS = "multiprocess"
KUBERNETES = "k8s"


def executor_from_environment() -> dg.ExecutorDefinition:
    """The executor `$SCRUBLINE_EXECUTOR` names; in-process when unset."""
    return executor_named(os.environ.get(EXECUTOR_VARIABLE, IN_PROCESS))


def executor_named(name: str) -> dg.ExecutorDefinition:
    """`in_process`, `multiprocess` or `k8s` (which needs dagster-k8s: `pip install scrubline[cluster]`)."""
    if name == IN_PROCESS:
        return dg.in_process_executor
    if name == MULTIPROCESS:
        return dg.multiprocess_executor
    if name == KUBERNETES:
        from dagster_k8s import k8s_job_executor  # only clusters install dagster-k8s

        return k8s_job_executor
    raise ConfigError(
        f"{EXECUTOR_VARIABLE}={name!r} is not an executor Scrubline runs on: set it to {IN_PROCESS} (one process "
        f"per run, the default), {MULTIPROCESS} (a process per step) or {KUBERNETES} (a Kubernetes job per step; "
        "see docs/kubernetes.md)"
    )
