#!/usr/bin/env bash
# kill-apply.sh [ROUNDS]: runs the crash-safety trials ROUNDS times (default 1).
#
# Each round is the CrashSafetyTests suite (also part of `make test`): the real `barfill apply`
# binary against the simulated provider and a throwaway PostgreSQL, SIGKILLed at 24 random
# moments and resumed each time; the final table and ledger must equal a clean run's, with no
# duplicate rows and no chunk fetched more than twice (the simulator's request log).
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-1}
swift build --build-tests
for round in $(seq 1 "$rounds"); do
    echo "kill-apply: round $round of $rounds"
    scripts/with-postgres swift test --skip-build --filter CrashSafetyTests
done
