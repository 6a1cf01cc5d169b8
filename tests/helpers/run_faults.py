"""tools/faults: the full fault campaign (see tests/helpers/faults.py)."""

import datetime
import os
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from helpers.faults import KINDS, Campaign  # noqa: E402
from helpers.openocd import TOP, build_firmware  # noqa: E402


def main(arguments):
    clients = ["gdb", "openocd"]
    for flag, only in [("--gdb", "gdb"), ("--openocd", "openocd")]:
        if flag in arguments:
            arguments.remove(flag)
            clients = [only]
    loads = int(arguments[0]) if arguments else 100
    rate = float(arguments[1]) if len(arguments) > 1 else 1e-3
    kinds = arguments[2:] or KINDS
    firmware = build_firmware()

    # BMP_UNIX_BUILD as in tests/conftest.py: another build of the host probe.
    micropython = TOP / "build" / os.environ.get("BMP_UNIX_BUILD", "unix") / "micropython"
    summaries, failed = [], False
    with tempfile.TemporaryDirectory() as cwd:
        for kind in kinds:
            for client in clients:
                campaign = Campaign(micropython, firmware, cwd, kind, rate)
                getattr(campaign, f"{client}_loads")(loads)
                line = f"{client}: {campaign.summary()}"
                print(f"faults: {line}", flush=True)
                for outcome, details in campaign.details.items():
                    for detail in details[:2]:
                        print(f"faults:   {outcome}: {detail}", flush=True)
                summaries.append(line)
                failed |= bool(campaign.bad())
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = TOP / "build" / "faults"
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "summary.txt", "a") as summary:
        for line in summaries:
            summary.write(f"{stamp} {line}\n")
    print("faults: summary\n  " + "\n  ".join(summaries))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
