"""A delivery of blank cards counts once: its reference is unique per office, and a receipt submitted twice
(a double click, a reload, two supervisors) is refused with a clear message and leaves the stock alone."""

from __future__ import annotations

import importlib
import threading

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction

from queueing import errors, printing
from queueing.models import BlankMovement, BlankStock
from tests.other_office import clerk_of_another_kabupaten

migration = importlib.import_module("queueing.migrations.0007_blank_receipt_reference_unique")


def _stock(office) -> int:
    return BlankStock.objects.get(office=office).quantity


def test_the_same_delivery_received_twice_counts_once(clerk, supervisor, uptd_a, frozen_today):
    printing.blanks_receive(
        office=clerk.office, quantity=100, reference="SKB 471.13/001", received_on=frozen_today, by=supervisor
    )
    # Again, typed a little differently, and from a UPTD (it receives into the kabupaten's stock).
    with pytest.raises(errors.DuplicateReceipt, match="sudah dicatat"):
        printing.blanks_receive(
            office=uptd_a.office, quantity=100, reference="  skb 471.13/001 ", received_on=frozen_today, by=clerk
        )
    assert _stock(clerk.office) == 100
    assert BlankMovement.objects.filter(kind="receipt").count() == 1
    # Another delivery is another reference.
    printing.blanks_receive(
        office=clerk.office, quantity=50, reference="SKB 471.13/002", received_on=frozen_today, by=supervisor
    )
    assert _stock(clerk.office) == 150


def test_the_receipt_form_submitted_twice_shows_an_error_and_counts_once(client, supervisor, frozen_today):
    client.force_login(supervisor)
    form = {"quantity": "100", "reference": "SKB 471.13/001", "received_on": frozen_today.strftime("%d-%m-%Y")}
    client.post("/blangko/terima/", form)
    response = client.post("/blangko/terima/", form)

    # The page again with the form as typed, the error beside the reference; nothing counted twice.
    assert response.status_code == 400
    page = response.content.decode()
    error = page[page.index('id="id_reference_error"') :]
    assert page.index('id="id_reference"') < page.index('id="id_reference_error"')
    assert "SKB 471.13/001" in error[: error.index("</div>")] and "sudah dicatat" in error[: error.index("</div>")]
    assert f'value="{frozen_today:%d-%m-%Y}"' in page
    assert _stock(supervisor.office) == 100
    assert 'data-testid="stock">100<' in page


def test_other_offices_may_use_the_same_reference(clerk, frozen_today):
    for user in (clerk, clerk_of_another_kabupaten()):
        printing.blanks_receive(office=user.office, quantity=10, reference="SKB-1", received_on=frozen_today, by=user)
    assert BlankMovement.objects.filter(kind="receipt", reference="SKB-1").count() == 2


def test_the_database_refuses_a_second_receipt_with_the_reference(clerk, frozen_today):
    printing.blanks_receive(office=clerk.office, quantity=10, reference="SKB-1", received_on=frozen_today, by=clerk)
    with pytest.raises(IntegrityError), transaction.atomic():
        BlankMovement.objects.create(
            office=clerk.office, kind="receipt", quantity=10, reference="skb-1", created_by=clerk
        )
    # Spoilage reasons and print lines repeat freely.
    printing.blanks_spoil(office=clerk.office, quantity=1, reason="rusak", by=clerk)
    printing.blanks_spoil(office=clerk.office, quantity=1, reason="rusak", by=clerk)


@pytest.mark.postgres_only
def test_the_migration_makes_earlier_duplicates_unique_before_the_constraint(clerk):
    """Receipts recorded twice before the constraint stay (the stock counts them); their references get a
    number so the constraint can be created. PostgreSQL: the DDL rolls back with the test."""
    constraint = next(c for c in BlankMovement._meta.constraints if c.name == "blankmovement_receipt_reference_unique")
    with connection.schema_editor() as editor:
        editor.remove_constraint(BlankMovement, constraint)
    for reference in ["SKB-1", "skb-1", "SKB-1", "SKB-1 (2)"]:
        BlankMovement.objects.create(
            office=clerk.office, kind="receipt", quantity=5, reference=reference, created_by=clerk
        )

    migration.references_make_unique(apps, None)

    references = list(BlankMovement.objects.order_by("id").values_list("reference", flat=True))
    assert references == ["SKB-1", "skb-1 (3)", "SKB-1 (4)", "SKB-1 (2)"]
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's inserts; the migration only updates
    with connection.schema_editor() as editor:
        editor.add_constraint(BlankMovement, constraint)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_supervisors_receiving_the_same_delivery_at_once_count_it_once(ponorogo, supervisor, frozen_today):
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def receive() -> None:
        barrier.wait()
        try:
            printing.blanks_receive(
                office=supervisor.office, quantity=100, reference="SKB-1", received_on=frozen_today, by=supervisor
            )
            outcomes.append("received")
        except errors.DuplicateReceipt:
            outcomes.append("duplicate")
        finally:
            connection.close()

    threads = [threading.Thread(target=receive) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["duplicate", "received"]
    assert _stock(supervisor.office) == 100
