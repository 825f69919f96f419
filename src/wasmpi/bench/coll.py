"""`wasmpi bench coll`: Bcast, Allreduce, Allgather, Alltoall, Reduce, Gather, Scatter and
Barrier over message sizes."""

from __future__ import annotations

import argparse

from . import imb
from .context import Context

HELP = ("collectives: Bcast, Allreduce, Allgather, Alltoall, Reduce, Gather, Scatter, Barrier "
        "over message sizes")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    imb.add_arguments(parser, imb.COLL)


def run(args: argparse.Namespace, ctx: Context) -> int:
    return imb.run(args, ctx, "coll", imb.COLL)
