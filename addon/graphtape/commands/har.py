"""``graphtape import FILE.har|FILE.flows -o CASSETTE`` and ``graphtape export CASSETTE --har FILE``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from graphtape.cassette.format import load_cassette
from graphtape.cassette.recorder import Recorder, RecordMode
from graphtape.interop.flowfiles import ImportError_, import_flows, read_flows
from graphtape.interop.har import write_har
from graphtape.privacy.redaction import Redactor

IMPORT_EPILOG = """example: graphtape import devtools.har -o cassettes/inbox.yaml

Only Graph calls are kept (and upload-session calls to the upload URLs their answers named), with the same
redaction, token scan and --pseudonymize as 'graphtape record'. Exit status: 0 all Graph calls imported, 1 some
were refused (each is named; the others are written), 2 the file or the cassette could not be used."""
EXPORT_EPILOG = """example: graphtape export cassettes/inbox.yaml --har inbox.har

The HAR holds what the cassette holds (secrets were redacted when it was recorded). Exit status: 0 written, 2 the
cassette could not be read or the file not written."""


def add(sub: argparse._SubParsersAction[argparse.ArgumentParser],
        record_args: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("import", help="make a cassette of a HAR or mitmproxy flow file's Graph calls",
                       epilog=IMPORT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("capture", metavar="FILE", help="a HAR (.har) or mitmproxy flow file (mitmdump -w)")
    p.add_argument("-o", "--output", required=True, metavar="CASSETTE", help="the cassette to write")
    record_args(p)
    p.set_defaults(run=cmd_import)
    p = sub.add_parser("export", help="write a cassette as a HAR file for other tools",
                       epilog=EXPORT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("cassette", help="the cassette to export")
    p.add_argument("--har", required=True, metavar="FILE", help="the HAR file to write")
    p.set_defaults(run=cmd_export)


def cmd_import(args: argparse.Namespace) -> int:
    try:
        flows = read_flows(Path(args.capture))
    except ImportError_ as e:
        print(e, file=sys.stderr)
        return 2
    mode = RecordMode.APPEND if args.append else RecordMode.OVERWRITE if args.overwrite else RecordMode.NEW
    recorder = Recorder(Path(args.output), mode, Redactor.with_extra(args.redact_header, args.redact_param),
                        pseudonymize=args.pseudonymize, fsync=args.fsync, upload_bodies=args.upload_bodies)
    summary = import_flows(flows, recorder)
    print("\n".join(summary.lines(args.capture, recorder.path)), file=sys.stderr)
    return 1 if summary.refused else 0


def cmd_export(args: argparse.Namespace) -> int:
    interactions = load_cassette(Path(args.cassette)).interactions
    target = Path(args.har)
    try:
        write_har(target, interactions)
    except OSError as e:
        print(f"graphtape: cannot write {target}: {e.strerror or e}", file=sys.stderr)
        return 2
    print(f"graphtape: wrote {len(interactions)} interaction(s) of {args.cassette} to {target}", file=sys.stderr)
    return 0
