"""`wasmpi bench pt2pt`: PingPong, PingPing, Sendrecv and Exchange over message sizes."""

from __future__ import annotations

import argparse

from . import imb
from .context import Context

HELP = "point-to-point: PingPong, PingPing, Sendrecv, Exchange over message sizes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    imb.add_arguments(parser, imb.PT2PT)


def run(args: argparse.Namespace, ctx: Context) -> int:
    return imb.run(args, ctx, "pt2pt", imb.PT2PT)
