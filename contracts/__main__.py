"""`python -m contracts`: load the packaged contract and summarize it."""

from __future__ import annotations

import sys

from contracts.spec import default_contract


def main() -> int:
    contract = default_contract()
    info = contract.document["info"]
    print(f"{info['title']} {info['version']}: {len(contract.endpoints)} endpoints")
    for endpoint in contract.endpoints:
        statuses = " ".join(str(status) for status in sorted(endpoint.responses))
        print(f"  {endpoint.method:<6} {endpoint.path:<18} {endpoint.operation_id:<16} {statuses}")
    kinds = [rule["kind"] for rule in contract.rules.values()]
    print(f"rules: {kinds.count('documented')} documented (D), "
          f"{kinds.count('assumption')} assumptions (A)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
