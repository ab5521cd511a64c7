"""Write transactions: run again after a transient failure, once otherwise, savepoints inside."""

import peewee
import pytest

from components.framework import database as db
from components.framework import transactions


class Counter(db.BaseModel):
    name = peewee.CharField(unique=True, max_length=32)


@pytest.fixture
def database(database_url):
    connected = db.connect(database_url)
    connected.create_tables([Counter])
    return connected


@pytest.mark.database
def test_a_transient_failure_rolls_back_and_runs_again(database):
    attempts = []

    def work():
        attempts.append(1)
        Counter.create(name=f"c{len(attempts)}")
        if len(attempts) == 1:
            raise peewee.OperationalError("database is locked")
        return "done"

    assert transactions.run(work) == "done"
    assert len(attempts) == 2
    assert [c.name for c in Counter.select()] == ["c2"]


@pytest.mark.database
def test_any_other_failure_is_raised_at_once_and_rolled_back(database):
    attempts = []

    def work():
        attempts.append(1)
        Counter.create(name="x")
        raise ValueError("not transient")

    with pytest.raises(ValueError):
        transactions.run(work)
    assert len(attempts) == 1
    assert Counter.select().count() == 0


@pytest.mark.database
def test_inside_a_transaction_a_failed_run_leaves_the_outer_one_usable(database):
    Counter.create(name="taken")

    def outer():
        Counter.create(name="outer")
        with pytest.raises(peewee.IntegrityError):
            transactions.run(lambda: Counter.create(name="taken"))
        Counter.create(name="after")

    transactions.run(outer)
    assert sorted(c.name for c in Counter.select()) == ["after", "outer", "taken"]


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (peewee.OperationalError("database is locked"), True),
        (peewee.OperationalError(1213, "Deadlock found when trying to get lock"), True),
        (peewee.OperationalError(1205, "Lock wait timeout exceeded"), True),
        (peewee.IntegrityError("UNIQUE constraint failed"), False),
        (peewee.OperationalError(1146, "Table doesn't exist"), False),
    ],
)
def test_transient_errors_are_told_from_others(error, transient):
    assert transactions.is_transient(error) is transient
