#!/usr/bin/env python3
"""Writes the XNYS reference sessions that the calendar tests compare against.

    python3 -m venv /tmp/xcal && /tmp/xcal/bin/pip install exchange_calendars
    /tmp/xcal/bin/python scripts/make-calendar-fixture.py [FIRST LAST [OUT]]

Defaults: 2000-01-01 .. 2030-12-31 into Tests/Fixtures/xnys-sessions-2000-2030.csv.
One line per session: date,open,close with open/close in UTC, RFC 3339 with Z.
barfill never reads this file at run time; it only checks its own rules against it.
"""
import sys
from pathlib import Path

import exchange_calendars as xcals


def main() -> None:
    first = sys.argv[1] if len(sys.argv) > 1 else "2000-01-01"
    last = sys.argv[2] if len(sys.argv) > 2 else "2030-12-31"
    default = Path(__file__).resolve().parent.parent / "Tests" / "Fixtures" / "xnys-sessions-2000-2030.csv"
    out = Path(sys.argv[3]) if len(sys.argv) > 3 else default

    calendar = xcals.get_calendar("XNYS", start=first, end=last)
    schedule = calendar.schedule.loc[first:last]
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    lines = ["date,open,close"]
    for session, row in schedule.iterrows():
        lines.append(",".join([
            session.strftime("%Y-%m-%d"),
            row["open"].tz_convert("UTC").strftime(fmt),
            row["close"].tz_convert("UTC").strftime(fmt),
        ]))
    out.write_text("\n".join(lines) + "\n")
    print(f"{out}: {len(lines) - 1} sessions (exchange_calendars {xcals.__version__})", file=sys.stderr)


if __name__ == "__main__":
    main()
