"""Who may do what in a business: the one table of roles × actions, and the URLs behind each.

Roles rank owner > manager > staff; each action names the lowest role that may perform it.
Each action lists the URL names (`namespace:name`) that perform it. A bare name covers every
method the view serves; `"GET name"` / `"POST name"` cover one method, for the few URLs where
reading and changing need different roles (reading the settings vs saving them).

An action with `only_when` is an object rule: it raises the role needed for some objects
of a URL that a lower role may otherwise use (staff change their own notes; someone else's
note needs a manager).

The views enforce this table: `role_required(...)` on the view (its `minimum_role` is the
lowest role the table gives the URL), plus a check inside the view where one URL serves
two actions or an object rule applies. tests/security/test_role_matrix.py checks through
HTTP that every tenant URL is classified here and behaves as written, so a new URL cannot
ship unclassified.
"""

from __future__ import annotations

from dataclasses import dataclass

from glamiti.models import ROLE_RANK, Role

METHODS = ("GET", "POST")


# Object rules: a view may refuse one object to a role its URL lets in (checked in the view).
SOMEONE_ELSES_NOTE = "the note was written by someone else"


@dataclass(frozen=True)
class Action:
    minimum: Role
    description: str
    urls: tuple[str, ...]
    # Set for an action that is about some objects only: the URL's own minimum is that of
    # the unconditional action(s) listing it; this one raises it when `only_when` holds.
    only_when: str = ""


ACTIONS: dict[str, Action] = {
    # --- Front desk (staff and above) -------------------------------------------------------
    "view": Action(
        Role.STAFF,
        "See clients and their profiles, the calendar, sales and receipts, vouchers, the "
        "settings page (read-only) and a no-show fee's amount; download client documents.",
        (
            "dashboard",
            "clients:list",
            "clients:picker",
            "clients:detail",
            "clients:photo",
            "profile:history",
            "profile:appointments",
            "profile:sales",
            "profile:notes",
            "profile:document",
            "profile:feedback",
            "profile:tips",
            "profile:cards",
            "profile:vouchers",
            "appointments:calendar",
            "appointments:detail",
            "sales:list",
            "sales:detail",
            "vouchers:list",
            "vouchers:detail",
            "GET settings:index",
            "GET sales:no-show-fee",
        ),
    ),
    "edit": Action(
        Role.STAFF,
        "Add and change clients, archive and restore them; add notes, change and delete "
        "their own notes, pin any note; attach documents.",
        (
            "clients:create",
            "clients:edit",
            "clients:archive",
            "clients:restore",
            "profile:note-add",
            "profile:note-edit",
            "profile:note-delete",
            "profile:note-pin",
            "profile:document-add",
        ),
    ),
    "book": Action(
        Role.STAFF,
        "Book, move, complete and cancel appointments; mark no-shows.",
        (
            "appointments:book",
            "appointments:reschedule",
            "appointments:complete",
            "appointments:cancel",
            "appointments:no-show",
        ),
    ),
    "checkout": Action(
        Role.STAFF,
        "Check out a sale, taking any payment the client makes there (cash, terminal, a "
        "voucher, or the client's saved card while they are present).",
        ("sales:checkout",),
    ),
    "feedback": Action(Role.STAFF, "Record feedback on a sale.", ("sales:feedback",)),
    "save card": Action(
        Role.STAFF,
        "Save a client's card (Stripe's card field), make one the default, remove one.",
        (
            "profile:card-add",
            "profile:card-setup",
            "profile:card-setup-complete",
            "profile:card-default",
            "profile:card-remove",
        ),
    ),
    # --- Managers and owners ---------------------------------------------------------------
    "edit any note": Action(
        Role.MANAGER,
        "Change or delete a note someone else wrote (staff may change only their own).",
        ("profile:note-edit", "profile:note-delete"),
        only_when=SOMEONE_ELSES_NOTE,
    ),
    "delete document": Action(
        Role.MANAGER,
        "Delete a client's document (consent forms and waivers are the salon's records).",
        ("profile:document-delete",),
    ),
    "manage lists": Action(
        Role.MANAGER,
        "Add and remove the business's tags and referral sources.",
        ("clients:lists", "clients:list-item-delete"),
    ),
    "manage catalogue": Action(
        Role.MANAGER,
        "Add and change the services and products the business sells.",
        (
            "appointments:services",
            "appointments:service-create",
            "appointments:service-edit",
            "sales:products",
            "sales:product-create",
            "sales:product-edit",
        ),
    ),
    "issue voucher": Action(Role.MANAGER, "Issue a complimentary voucher.", ("vouchers:issue",)),
    "tips report": Action(Role.MANAGER, "See tips per team member.", ("sales:tips",)),
    "import": Action(
        Role.MANAGER,
        "Import clients from a file: upload, map, preview, confirm, follow, cancel.",
        (
            "clients:import",
            "clients:import-detail",
            "clients:import-map",
            "clients:import-preview",
            "clients:import-confirm",
            "clients:import-progress",
            "clients:import-result",
            "clients:import-rejected",
            "clients:import-discard",
        ),
    ),
    "undo import": Action(Role.MANAGER, "Undo a finished import.", ("clients:import-undo",)),
    "export": Action(Role.MANAGER, "Export the client list (CSV, XLSX).", ("clients:export",)),
    "merge": Action(
        Role.MANAGER,
        "Find likely duplicates and merge two clients.",
        ("clients:duplicates", "clients:merge"),
    ),
    "undo merge": Action(Role.MANAGER, "Undo a merge.", ("clients:merge-undo",)),
    "activity log": Action(
        Role.MANAGER,
        "See a client's activity log: who changed what, when and from where.",
        ("profile:activity",),
    ),
    "void": Action(Role.MANAGER, "Void a sale.", ("sales:void",)),
    "refund": Action(
        Role.MANAGER,
        "Refund a card payment (done by voiding its sale; there is no separate refund).",
        ("sales:void",),
    ),
    "charge card": Action(
        Role.MANAGER,
        "Charge a client's saved card when they are not there (the no-show fee).",
        ("POST sales:no-show-fee",),
    ),
    "manage team": Action(
        Role.MANAGER,
        "Add and change the team members who perform services and receive tips.",
        ("settings:team-create", "settings:team-edit"),
    ),
    # --- Owners only ----------------------------------------------------------------------
    "delete": Action(
        Role.OWNER, "Delete a client and their history for good.", ("clients:delete",)
    ),
    "adjust voucher": Action(Role.OWNER, "Correct a voucher's balance.", ("vouchers:adjust",)),
    "revert": Action(
        Role.OWNER,
        "Put a client's field back to its value before a change, from the activity log.",
        ("profile:activity-revert",),
    ),
    "gdpr export": Action(
        Role.OWNER,
        "Download everything held about one client (GDPR access request).",
        ("clients:data-export",),
    ),
    "erase": Action(
        Role.OWNER,
        "Erase a client's personal data for good (GDPR erasure), keeping the accounts.",
        ("clients:erase",),
    ),
    "retention": Action(
        Role.OWNER,
        "See which clients the retention rule would erase and which it holds back.",
        ("clients:retention",),
    ),
    "settings": Action(Role.OWNER, "Change the business's settings.", ("POST settings:index",)),
}


def _split(entry: str) -> tuple[str, tuple[str, ...]]:
    method, _, name = entry.rpartition(" ")
    if method and method not in METHODS:
        raise ValueError(f"Unknown method in permissions entry {entry!r}.")
    return name, (method,) if method else METHODS


def _url_minimums(conditional: bool) -> dict[tuple[str, str], Role]:
    """(URL name, method[, condition]) → minimum role; a URL named twice must agree."""
    table: dict = {}
    for action_name, action in ACTIONS.items():
        if bool(action.only_when) != conditional:
            continue
        for entry in action.urls:
            name, methods = _split(entry)
            for method in methods:
                key = (name, method, action.only_when) if conditional else (name, method)
                known = table.setdefault(key, action.minimum)
                if known != action.minimum:
                    raise ValueError(
                        f"{method} {name} is listed for {action_name!r} ({action.minimum}) and "
                        f"for another action with {known}."
                    )
    return table


URL_MINIMUMS: dict[tuple[str, str], Role] = _url_minimums(conditional=False)
OBJECT_RULES: dict[tuple[str, str, str], Role] = _url_minimums(conditional=True)
URL_NAMES = frozenset(name for name, _ in URL_MINIMUMS)
if missing := {name for name, _, _ in OBJECT_RULES} - URL_NAMES:
    raise ValueError(f"Object rules for URLs with no unconditional action: {sorted(missing)}")


def minimum_role(url_name: str, method: str, when: str = "") -> Role:
    """The lowest role that may send `method` to the URL named `url_name` (for an object
    that meets the rule `when`, if given). KeyError if the URL is not in the table:
    unclassified URLs are refused, not guessed."""
    method = "GET" if method.upper() in ("GET", "HEAD") else "POST"
    if when:
        return OBJECT_RULES[(url_name, method, when)]
    return URL_MINIMUMS[(url_name, method)]


def object_rules(url_name: str, method: str) -> dict[str, Role]:
    """The object rules of a URL and method: {condition: minimum role}."""
    return {w: r for (n, m, w), r in OBJECT_RULES.items() if (n, m) == (url_name, method)}


def may(role: str, url_name: str, method: str = "GET", when: str = "") -> bool:
    return ROLE_RANK[Role(role)] >= ROLE_RANK[minimum_role(url_name, method, when)]


def actions_of(url_name: str) -> list[str]:
    """The actions a URL performs (for messages and reports)."""
    return [
        action_name
        for action_name, action in ACTIONS.items()
        if any(_split(entry)[0] == url_name for entry in action.urls)
    ]
