"""``rackwright serve --demo``: two organisations co-designing the example rack generations.

* ``lab`` (an AI lab) and ``mfr`` (a rack manufacturer), each with one user per role
  (``lab-viewer``, ``lab-engineer``, ``lab-approver``, ``lab-admin``, same for ``mfr``);
  the demo password of a user is ``<username>-demo``, and each gets an API token;
* programme ``mfr/nvl72``: ``gb200-nvl72`` shared in full with the lab and signed off by
  both (shipped), ``gb300-nvl72`` extending it, shared at envelope level, in review;
  ``mfr/hgx-h100-air`` unshared; programme ``lab/frontier``: the lab's ``ethernet-800vdc``
  and ``meta-catalina``, shared with the manufacturer at envelope level.

Seeding is idempotent: nothing is done when organisation ``lab`` exists.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from ..errors import InputError
from . import services
from .db import ROLES, Organisation, User, transaction

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
ORGANISATIONS = {"lab": "Example AI Lab", "mfr": "Example Rack Manufacturer"}
#: (owner, programme, design, example file, shared with, level); in push order (parents first).
DESIGNS = [
    ("mfr", "nvl72", "gb200-nvl72", "gb200-nvl72.yaml", "lab", "full"),
    ("mfr", "nvl72", "gb300-nvl72", "gb300-nvl72.yaml", "lab", "envelope"),
    ("mfr", "nvl72", "hgx-h100-air", "hgx-h100-air.yaml", None, None),
    ("lab", "frontier", "ethernet-800vdc", "ethernet-800vdc.yaml", "mfr", "envelope"),
    ("lab", "frontier", "meta-catalina", "meta-catalina.yaml", "mfr", "envelope"),
]


def demo_password(username: str) -> str:
    return f"{username}-demo"


def seed_demo(engine: Engine, examples: Path = EXAMPLES) -> dict[str, str]:
    """Seed the demo (when absent); ``{username: API token}`` of the users created, else ``{}``."""
    missing = [file for *_, file, _, _ in DESIGNS if not (examples / file).is_file()]
    if missing:
        raise InputError.single(
            str(examples),
            f"--demo needs the example designs {', '.join(missing)}",
            "--demo",
            "run the server from a source checkout of rackwright (examples/ directory)",
        )
    with transaction(engine, write=True) as session:
        if session.scalar(select(Organisation).where(Organisation.slug == "lab")):
            return {}
        actors = {}
        for org, title in ORGANISATIONS.items():
            services.create_organisation(session, org, title)
            for role in ROLES:
                username = f"{org}-{role}"
                services.create_user(
                    session, None, org, username, demo_password(username), role, display_name=f"{title} {role}"
                )
        for user in session.scalars(select(User)):
            actors[user.username] = services.actor_for(user)
        tokens = {name: services.issue_token(session, actor, "demo") for name, actor in actors.items()}
        for org in ORGANISATIONS:
            services.create_programme(
                session,
                actors[f"{org}-engineer"],
                {"lab": "frontier", "mfr": "nvl72"}[org],
                {"lab": "Frontier training racks", "mfr": "NVL72 rack generations"}[org],
            )
        for org, programme, name, file, partner, level in DESIGNS:
            content = (examples / file).read_text(encoding="utf-8")
            services.create_design(session, actors[f"{org}-engineer"], name, content, f"import {file}", programme)
            if partner:
                services.share(session, actors[f"{org}-admin"], org, name, partner, level)
        _sign_off(session, actors, "mfr", "gb200-nvl72", ["approved", "frozen", "shipped"])
        _sign_off(session, actors, "mfr", "gb300-nvl72", [])
        return tokens


def _sign_off(session, actors, org: str, name: str, then: list[str]) -> None:
    """Put a design in review, approve its head from both organisations, then move it through ``then``."""
    services.set_status(session, actors[f"{org}-engineer"], org, name, "in_review")
    if not then:
        return
    for partner in ORGANISATIONS:
        services.approve(session, actors[f"{partner}-approver"], org, name)
    for status in then:
        services.set_status(session, actors[f"{org}-approver"], org, name, status)
