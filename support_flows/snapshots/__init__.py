"""Snapshots: the records the objects write, read back strictly (`strict`), and the V2 checks a
restore makes on a record alone (`plan_checks`, `plan_periods`, `plan_invariants`, `consulting`).

The machines replay a record's history themselves (`machines.plan_record`,
`machines.consulting_record`): the chart is the one declaration of what that history may hold.
"""
