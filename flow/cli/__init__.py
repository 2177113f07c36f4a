"""``signflow``: one command, one subcommand per job.

Each job module registers its own subcommand with ``add_parser(subparsers)``
and sets ``func``; this file only collects them and turns user errors into one
line on stderr and exit status 2.
"""
import argparse
import importlib
import os
import sys
import warnings

#: modules that register a subcommand, in the order ``--help`` lists them
COMMAND_MODULES = [
    "signflow.models.train_command",
    "signflow.models.evaluate",
    "signflow.models.export",
    "signflow.build",
    "signflow.cli.run",
    "signflow.cli.verify",
    "signflow.models.kernel_design",
    "signflow.cli.demo",
]


def make_parser():
    parser = argparse.ArgumentParser(
        prog="signflow",
        description="Binary neural networks with DeSign/DySign activations, from training to verified hardware.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(sub)
    return parser


def quiet_libraries():
    """Keep library chatter (tracer and deprecation warnings) out of the user's terminal."""
    warnings.filterwarnings("ignore")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv=None):
    from signflow.errors import UserError

    quiet_libraries()
    args = make_parser().parse_args(argv)
    try:
        args.func(args)
    except UserError as err:
        print(f"signflow {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"signflow {args.command}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
