"""The fault-injection table (``tests/fault_injection.py``) under pytest: every bad input ends
in exit status 2 and one ``neurocl: error:`` line naming the field or file."""

import pytest
import warnings

import fault_injection


@pytest.mark.integration
def test_fault_injection_table():
    outcomes = fault_injection.run_cases(jobs=2, echo=None)
    assert len(outcomes) >= 40
    failed = [f"{o.case.name}: {o.why} [{o.line}]" for o in outcomes if not o.ok and not o.case.needs]
    pending = [f"{o.case.name} (needs {o.case.needs}): {o.why}" for o in outcomes if not o.ok and o.case.needs]
    for p in pending:
        warnings.warn(f"fault injection case pending other work: {p}", stacklevel=1)
    assert not failed, "\n".join(failed)
