"""The code's shape, checked on its source (tests, bench, scripts and migrations are not project code here):

- a card request's status is written only by cards/workflow.py (no `.update(status=...)` on card requests,
  no `<card request>.status = ...`, no `save(update_fields=[... "status" ...])`, no raw `UPDATE` of its table);
- no function-level import of a project app, except in `AppConfig.ready()` (a hidden import is an arrow
  pointing the wrong way: move the code instead);
- the clock is read only in registry/clock.py (no `timezone.now()`, `timezone.localdate()`, `date.today()`,
  `datetime.now()` ... elsewhere; `default=timezone.now` as a reference is tolerated);
- the import-linter contracts (pyproject.toml, [tool.importlinter]) pass.

Each scanner is first tried on snippets that must be caught, so a scanner that finds nothing cannot pass.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT_APPS = ("config", "delivery", "intake", "queueing", "cards", "registry", "messaging")
NOT_PROJECT_CODE = {"tests", "bench", "scripts", "migrations", "node_modules", "static", "templates", "locale"}
STATUS_OWNER = "cards/workflow.py"
CLOCK = "registry/clock.py"

# Names a card request goes by in the code (a variable, an attribute, a loop variable).
CARD_REQUEST_NAME = re.compile(r"^(card_request\w*|\w*_card_request|cr|creq|request_obj|card_req)$")
CARD_REQUEST_RECEIVER = re.compile(r"^(CardRequest|card_requests?\w*|cr|creq|request_obj)$")
RAW_STATUS_UPDATE = re.compile(r"\bUPDATE\s+\"?(registry|cards)_cardrequest\"?\s", re.IGNORECASE)
CLOCK_CALLS = {
    ("timezone", "now"),
    ("timezone", "localdate"),
    ("date", "today"),
    ("datetime", "now"),
    ("datetime", "today"),
    ("datetime", "utcnow"),
}
CLOCK_FUNCTIONS_BY_NAME = {"now", "localdate"}  # `from django.utils.timezone import now`


def project_files() -> Iterator[Path]:
    """Every .py of the project apps (and manage.py), migrations excluded."""
    yield ROOT / "manage.py"
    for app in PROJECT_APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if not NOT_PROJECT_CODE & set(path.relative_to(ROOT).parts):
                yield path


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _with_parents(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            child.parent = node  # type: ignore[attr-defined]
    return tree


def _enclosing(node: ast.AST, kinds: tuple[type, ...]) -> Iterator[ast.AST]:
    while (node := getattr(node, "parent", None)) is not None:
        if isinstance(node, kinds):
            yield node


# --- scanners ------------------------------------------------------------------------------------------------


def _names_card_request(target: ast.expr) -> bool:
    if isinstance(target, ast.Name):
        return bool(CARD_REQUEST_NAME.match(target.id))
    if isinstance(target, ast.Attribute):
        return bool(CARD_REQUEST_NAME.match(target.attr))
    if isinstance(target, ast.Subscript):
        return _names_card_request(target.value)
    return False


def _in_card_request_class(node: ast.AST) -> bool:
    return any(
        cls.name in {"CardRequest", "CardRequestQuerySet", "CardRequestManager"}
        for cls in _enclosing(node, (ast.ClassDef,))
    )


def _string_constants(node: ast.AST) -> Iterator[str]:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            yield sub.value


def _chain(expr: ast.expr) -> list[tuple[str, bool]]:
    """The names along a call chain, arguments left out, each with whether it is called:
    `CardRequest.objects.filter(x=y)` gives [("CardRequest", False), ("objects", False), ("filter", True)]."""
    names: list[tuple[str, bool]] = []
    called = False
    while True:
        if isinstance(expr, ast.Call):
            expr, called = expr.func, True
            continue
        if isinstance(expr, ast.Attribute):
            names.append((expr.attr, called))
            expr = expr.value
        elif isinstance(expr, ast.Subscript):
            expr = expr.value
        else:
            if isinstance(expr, ast.Name):
                names.append((expr.id, called))
            return names[::-1]
        called = False


def _queries_card_requests(chain: list[tuple[str, bool]]) -> bool:
    """A queryset of card requests: rooted at CardRequest (or a variable named for card requests), through
    `objects` and method calls only; `card_request.bookings.filter(...)` is a queryset of bookings."""
    if not chain or not CARD_REQUEST_RECEIVER.match(chain[0][0]):
        return False
    return all(called or name == "objects" for name, called in chain[1:])


def _status_aliases(tree: ast.AST) -> set[str]:
    """`CardRequest.Status` and the names it is bound to (`S = CardRequest.Status`)."""
    aliases = {"CardRequest.Status"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and ast.unparse(node.value) == "CardRequest.Status":
            aliases |= {target.id for target in node.targets if isinstance(target, ast.Name)}
    return aliases


def _is_card_request_status(value: ast.expr, aliases: set[str]) -> bool:
    text = ast.unparse(value)
    return any(text.startswith(f"{alias}.") for alias in aliases)


def status_writes(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Where a card request's status is written: (line, what)."""
    _with_parents(tree)
    aliases = _status_aliases(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if not (isinstance(target, ast.Attribute) and target.attr == "status"):
                    continue
                owner = target.value
                if (
                    _names_card_request(owner)
                    or (isinstance(owner, ast.Name) and owner.id == "self" and _in_card_request_class(node))
                    or (node.value is not None and _is_card_request_status(node.value, aliases))
                ):
                    yield node.lineno, f"{ast.unparse(target)} = ..."
        elif isinstance(node, ast.Call):
            func = node.func
            if not isinstance(func, ast.Attribute):
                if (
                    getattr(func, "id", "") == "setattr"
                    and len(node.args) >= 2
                    and _names_card_request(node.args[0])
                    and isinstance(node.args[1], ast.Constant)
                    and node.args[1].value == "status"
                ):
                    yield node.lineno, f"setattr({ast.unparse(node.args[0])}, 'status', ...)"
                continue
            receiver = _chain(func.value)
            about_card_requests = _queries_card_requests(receiver) or (
                receiver[:1] == [("self", False)] and _in_card_request_class(node)
            )
            status = next((kw.value for kw in node.keywords if kw.arg == "status"), None)
            if func.attr == "update" and status is not None:
                if about_card_requests or _is_card_request_status(status, aliases):
                    yield node.lineno, f"{ast.unparse(func.value)}.update(status=...)"
            elif func.attr == "bulk_update" and about_card_requests and "status" in set(_string_constants(node)):
                yield node.lineno, f"{ast.unparse(func.value)}.bulk_update([... 'status' ...])"
            elif func.attr == "save" and _names_card_request(func.value):
                fields = next((kw.value for kw in node.keywords if kw.arg == "update_fields"), None)
                if fields is None or "status" in set(_string_constants(fields)):
                    yield node.lineno, f"{ast.unparse(func.value)}.save(...) writing the status"
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and RAW_STATUS_UPDATE.search(node.value):
            yield node.lineno, "raw SQL: UPDATE registry_cardrequest"


def _is_project_module(module: str | None, level: int) -> bool:
    return level > 0 or (module or "").split(".")[0] in PROJECT_APPS


def _in_app_config_ready(node: ast.AST) -> bool:
    functions = list(_enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef)))
    if len(functions) != 1 or functions[0].name != "ready":
        return False
    cls = getattr(functions[0], "parent", None)
    return isinstance(cls, ast.ClassDef) and any("AppConfig" in ast.unparse(base) for base in cls.bases)


def function_level_imports(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Imports of project apps inside a function (AppConfig.ready excepted): (line, the import)."""
    _with_parents(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [(alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [(node.module, node.level)]
        else:
            continue
        if not any(_is_project_module(module, level) for module, level in modules):
            continue
        if next(_enclosing(node, (ast.FunctionDef, ast.AsyncFunctionDef)), None) is None:
            continue  # module level (TYPE_CHECKING blocks included)
        if not _in_app_config_ready(node):
            yield node.lineno, ast.unparse(node)


def clock_reads(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Calls that read the clock: (line, the call)."""
    imported_clock_functions: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.timezone":
            imported_clock_functions |= {
                alias.asname or alias.name for alias in node.names if alias.name in CLOCK_FUNCTIONS_BY_NAME
            }
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute):
            owner = func.value
            owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if (owner_name, func.attr) in CLOCK_CALLS:
                yield node.lineno, ast.unparse(node)
            elif owner_name == "timezone" and func.attr == "localtime" and not node.args and not node.keywords:
                yield node.lineno, ast.unparse(node)  # localtime() with no value reads now()
        elif isinstance(func, ast.Name) and func.id in imported_clock_functions:
            yield node.lineno, ast.unparse(node)


def _violations(scanner, *, allowed: set[str] = frozenset()) -> list[str]:
    found = []
    for path in project_files():
        if _rel(path) in allowed:
            continue
        found += [f"{_rel(path)}:{line}: {what}" for line, what in scanner(_parse(path))]
    return found


# --- the scanners catch what they must ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "CardRequest.objects.filter(pk=1, status='a').update(status='b')",
        "def f(card_request):\n    card_request.status = 'printed'",
        "def f(cr):\n    cr.status = S.PRINTED\n",
        "def f(self):\n    self.card_request.status = 'printed'",
        "def f(card_requests):\n    card_requests.filter(route='post').update(status='printed', updated_at=1)",
        "CardRequest.objects.select_for_update().filter(pk=1).needing_recording().update(status='x')",
        "def f(batch):\n    CardRequest.objects.bulk_update(batch, ['status'])",
        "def f(card_request):\n    card_request.save(update_fields=['status', 'updated_at'])",
        "def f(card_request):\n    card_request.save()",
        "def f(card_request):\n    setattr(card_request, 'status', 'printed')",
        "class CardRequest:\n    def close(self):\n        self.status = 'closed'",
        "class CardRequestQuerySet:\n    def expire(self):\n        return self.update(status='x')",
        "SQL = '''WITH t AS (SELECT 1) UPDATE registry_cardrequest SET status = 'scheduled' '''",
        "cursor.execute('update   cards_cardrequest set status = %s', ['x'])",
        "S = CardRequest.Status\nqs = CardRequest.objects.all()\nqs.update(status=S.PRINTED)",
        "S = CardRequest.Status\ndef f(req):\n    req.status = S.PRINTED",
        "def f(locked):\n    locked.status = CardRequest.Status.PRINTED",
    ],
)
def test_status_scanner_catches(code):
    assert list(status_writes(ast.parse(code))), code


@pytest.mark.parametrize(
    "code",
    [
        "Booking.objects.filter(card_request_id=1).update(status='cancelled')",
        "def f(booking):\n    booking.status = 'moved'",
        "def f(shipment):\n    shipment.status = 'delivered'",
        "CardRequest.objects.filter(pk=1).update(route='post')",
        "def f(card_request):\n    card_request.save(update_fields=['route'])",
        "CardRequestEvent.objects.filter(pk=1).update(status='x')",
        "SQL = 'SELECT status FROM registry_cardrequest'",
        "Booking.objects.filter(card_request=card_request).update(status=B.MOVED)",
        "def f(card_request):\n    card_request.bookings.filter(day=1).update(status='moved')",
    ],
)
def test_status_scanner_leaves_other_writes_alone(code):
    assert not list(status_writes(ast.parse(code))), code


def test_import_scanner():
    code = """
from cards.workflow import card_move
import holidays

def f():
    from queueing import printing
    import registry.models
    import holidays
    from . import helpers

class DeliveryConfig(AppConfig):
    def ready(self):
        from cards.workflow import release_hook

class Other:
    def ready(self):
        from cards.workflow import release_hook
"""
    found = [what for _line, what in function_level_imports(ast.parse(code))]
    assert found == [
        "from queueing import printing",
        "import registry.models",
        "from . import helpers",
        "from cards.workflow import release_hook",
    ]


def test_clock_scanner():
    code = """
from django.utils import timezone
from django.utils.timezone import now as tz_now
from datetime import date, datetime

a = timezone.now()
b = timezone.localdate()
c = date.today()
d = datetime.now(tz=None)
e = timezone.localtime()
f = tz_now()
g = models.DateTimeField(default=timezone.now)
h = timezone.localtime(value)
i = clock.now()
"""
    found = [what for _line, what in clock_reads(ast.parse(code))]
    assert found == [
        "timezone.now()",
        "timezone.localdate()",
        "date.today()",
        "datetime.now(tz=None)",
        "timezone.localtime()",
        "tz_now()",
    ]


def test_every_project_package_is_scanned():
    """A new app beside manage.py must be added to PROJECT_APPS (and to the import-linter layers)."""
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")}
    assert apps | {"config"} == set(PROJECT_APPS)
    scanned = {_rel(path) for path in project_files()}
    assert {STATUS_OWNER, CLOCK, "cards/models.py", "queueing/appointments.py"} <= scanned
    assert not any("/migrations/" in path for path in scanned)


# --- the project -------------------------------------------------------------------------------------------


def test_only_the_workflow_writes_a_card_requests_status():
    found = _violations(status_writes, allowed={STATUS_OWNER})
    assert not found, "CardRequest.status written outside cards/workflow.py (use card_move):\n" + "\n".join(found)


def test_the_workflow_itself_is_seen_writing_the_status():
    assert list(status_writes(_parse(ROOT / STATUS_OWNER))), "the scanner no longer recognises the owner's write"


def test_no_function_level_imports_of_project_apps():
    found = _violations(function_level_imports)
    assert not found, "function-level imports of project apps (move the code, not the import):\n" + "\n".join(found)


def test_the_clock_is_read_only_in_registry_clock():
    found = _violations(clock_reads, allowed={CLOCK})
    assert not found, "the clock read outside registry/clock.py (use clock.now() / clock.today(office)):\n" + "\n".join(
        found
    )


def test_import_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-logo", "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
